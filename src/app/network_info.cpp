#include "evsed/app/network_info.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>  // before linux/wireless.h, which otherwise redefines the IFF_ flags
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
// clang-format off
#include <linux/wireless.h>
// clang-format on

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

namespace evsed::app {

namespace {

struct Interface {
  bool running = false;
  std::string ipv4;
};

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string mac_of(const std::string& name) {
  std::ifstream in("/sys/class/net/" + name + "/address");
  std::string mac;
  in >> mac;
  std::transform(mac.begin(), mac.end(), mac.begin(), [](unsigned char c) { return std::toupper(c); });
  return mac;
}

station::WifiView wifi_of(const std::string& name) {
  station::WifiView w;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    char essid[IW_ESSID_MAX_SIZE + 1] = {};
    iwreq req{};
    std::strncpy(req.ifr_name, name.c_str(), IFNAMSIZ - 1);
    req.u.essid.pointer = essid;
    req.u.essid.length = IW_ESSID_MAX_SIZE;
    if (::ioctl(fd, SIOCGIWESSID, &req) == 0) w.ssid = essid;
    iwreq ap{};
    std::strncpy(ap.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd, SIOCGIWAP, &ap) == 0) {
      const auto* b = reinterpret_cast<const unsigned char*>(ap.u.ap_addr.sa_data);
      char buf[18];
      std::snprintf(buf, sizeof buf, "%02X:%02X:%02X:%02X:%02X:%02X", b[0], b[1], b[2], b[3], b[4], b[5]);
      w.bssid = buf;
    }
    ::close(fd);
  }
  // /proc/net/wireless: "wlan0: 0000   54.  -56.  -256 ..." (signal level in dBm)
  std::ifstream in("/proc/net/wireless");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string ifname = line.substr(0, colon);
    ifname.erase(0, ifname.find_first_not_of(' '));
    if (ifname != name) continue;
    unsigned status = 0;
    float link = 0, level = 0;
    if (std::sscanf(line.c_str() + colon + 1, "%x %f %f", &status, &link, &level) == 3) w.rssi = static_cast<int>(level);
  }
  return w;
}

}  // namespace

station::NetworkView read_network() {
  station::NetworkView view;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return view;
  std::map<std::string, Interface> interfaces;
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_name || (a->ifa_flags & IFF_LOOPBACK)) continue;
    Interface& i = interfaces[a->ifa_name];
    i.running = i.running || (a->ifa_flags & IFF_RUNNING);
    if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && i.ipv4.empty()) {
      char buf[INET_ADDRSTRLEN];
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      if (::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf)) i.ipv4 = buf;
    }
  }
  ::freeifaddrs(list);

  // Prefer a physical wired interface; else any wired one (VMs, containers).
  const std::string* wired = nullptr;
  for (const auto& [name, i] : interfaces) {
    const std::string sys = "/sys/class/net/" + name;
    if (exists(sys + "/wireless")) {
      if (i.running && !view.wifi) view.wifi = wifi_of(name);
      continue;
    }
    if (!wired || (exists(sys + "/device") && !exists("/sys/class/net/" + *wired + "/device"))) wired = &name;
  }
  if (wired) {
    const Interface& i = interfaces[*wired];
    view.eth_present = true;
    view.eth_connected = i.running;
    view.eth_has_ip = !i.ipv4.empty();
    view.eth_ip = i.ipv4;
    view.eth_mac = mac_of(*wired);
  }
  return view;
}

}  // namespace evsed::app

namespace evsed::app {

std::vector<std::string> urls_for(const std::string& listen_list) {
  std::vector<std::string> urls;
  auto add = [&](const std::string& host, const std::string& port) {
    std::string url = "http://";  // built up: GCC 12 warns falsely on "x" + std::string&&
    url += host;
    if (port != "80") {
      url += ':';
      url += port;
    }
    url += '/';
    if (std::find(urls.begin(), urls.end(), url) == urls.end()) urls.push_back(url);
  };
  std::size_t start = 0;
  while (start <= listen_list.size()) {
    const auto comma = listen_list.find(',', start);
    const std::string item = listen_list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? listen_list.size() + 1 : comma + 1;
    const auto colon = item.rfind(':');
    if (colon == std::string::npos) continue;
    const std::string host = item.substr(0, colon);
    const std::string port = item.substr(colon + 1);
    const bool any4 = host == "0.0.0.0";
    const bool any6 = host == "[::]";
    if (!any4 && !any6) {
      add(host == "localhost" ? "127.0.0.1" : host, port);
      continue;
    }
    // Listening on all: the addresses the host has, the LAN ones first.
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) continue;
    std::vector<std::string> loopback;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
      if (!a->ifa_addr || !(a->ifa_flags & IFF_UP)) continue;
      char buf[INET6_ADDRSTRLEN] = {};
      std::string address;
      if (a->ifa_addr->sa_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
        address = buf;
      } else if (a->ifa_addr->sa_family == AF_INET6 && any6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
        if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr)) continue;  // needs a zone: not a usable link
        ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
        address = '[';
        address += buf;
        address += ']';
      } else {
        continue;
      }
      if (a->ifa_flags & IFF_LOOPBACK) {
        loopback.push_back(address);
      } else {
        add(address, port);
      }
    }
    ::freeifaddrs(list);
    for (const auto& l : loopback) add(l, port);
  }
  return urls;
}

}  // namespace evsed::app
