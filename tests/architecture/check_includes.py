#!/usr/bin/python3
"""Who may include what (docs/architecture.md): fails when a source file includes a header it may not.

Usage: check_includes.py SOURCE_ROOT      check the tree
       check_includes.py --self-test      prove that a forbidden include is caught
"""

import os
import re
import sys
import tempfile

# evsed areas each area may include (its own is always allowed).
EVSED = {
    "core": set(),
    "station": {"core"},
    "http": {"core", "station"},
    "mqtt": {"core", "station", "worker"},
    "meters": {"core"},
    "hw": {"core"},
    "sim": {"core", "hw"},
    "worker": set(),
    "sessions": {"core", "station", "worker"},
    "auth": {"core", "station", "worker"},
    "app": {"core", "station", "http", "mqtt", "meters", "hw", "sim", "worker", "sessions", "auth"},
    "tools": {"core", "meters"},
}

# Libraries outside the C++ standard library, by the first part of the include
# path, and the areas that may use them. The core uses the standard library only.
LIBRARIES = {
    "boost": {"http", "mqtt", "app"},
    "mqtt": {"mqtt"},            # Paho MQTT C++
    "modbus.h": {"meters", "tools"},
    "gpiod.h": {"hw"},
    "spdlog": {"mqtt", "meters", "app", "tools", "sessions", "auth"},
    "sodium.h": {"auth"},
    "sqlite3.h": {"sessions"},
    "zlib.h": {"http"},
    "openssl": {"http"},
    "nlohmann": {"station", "http", "mqtt", "app", "auth"},
    "toml++": {"app"},
    "systemd": {"app"},
}
# POSIX and Linux headers: I/O belongs to the adapters, never to the core or the Station.
POSIX = re.compile(r"^(unistd\.h|fcntl\.h|poll\.h|dirent\.h|ifaddrs\.h|sys/|arpa/|net/|linux/|netinet/)")
POSIX_AREAS = {"http", "mqtt", "meters", "hw", "app", "tools", "auth"}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def area_of(rel):
    parts = rel.split(os.sep)
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    if parts[0] == "include" and len(parts) > 3 and parts[1] == "evsed":
        return parts[2]
    if parts[0] == "include" and len(parts) == 3:
        return "app"  # evsed/version.hpp
    if parts[0] == "tools":
        return "tools"
    return None


def violations(root):
    found = []
    for top in ("src", "include", "tools"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith((".cpp", ".hpp", ".hpp.in")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                area = area_of(rel)
                if area is None:
                    continue
                if area not in EVSED:
                    found.append(f"{rel}: area '{area}' has no include rules (add it to check_includes.py)")
                    continue
                with open(path, encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        header = m.group(2)
                        where = f"{rel}:{number}: {area} includes {header}"
                        if header.startswith("evsed/"):
                            parts = header.split("/")
                            target = parts[1] if len(parts) > 2 else "app"
                            if target != area and target not in EVSED[area]:
                                found.append(where + f" (allowed: {', '.join(sorted(EVSED[area] | {area}))})")
                            continue
                        if m.group(1) == '"':
                            continue  # a file next to it (tests, tools)
                        first = header.split("/")[0]
                        if first in LIBRARIES and area not in LIBRARIES[first]:
                            found.append(where + " (a library this area may not use)")
                        elif POSIX.match(header) and area not in POSIX_AREAS:
                            found.append(where + " (operating-system I/O belongs to an adapter)")
    return found


def self_test():
    """A tree with forbidden includes must be refused, and a clean one accepted."""
    with tempfile.TemporaryDirectory() as root:
        def write(rel, text):
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)

        write("src/core/ok.cpp", '#include "evsed/core/units.hpp"\n#include <vector>\n')
        write("src/http/ok.cpp", '#include "evsed/station/station.hpp"\n#include <boost/beast.hpp>\n')
        if violations(root):
            print("self-test: a clean tree was refused:", violations(root))
            return 1
        write("src/http/bad.cpp", '#include "evsed/mqtt/topics.hpp"\n')
        write("src/core/bad.cpp", '#include <spdlog/spdlog.h>\n#include <unistd.h>\n#include "evsed/hw/io.hpp"\n')
        write("include/evsed/mqtt/bad.hpp", '#include "evsed/meters/meter_type.hpp"\n')
        found = violations(root)
        expected = ["src/http/bad.cpp:1: http includes evsed/mqtt/topics.hpp",
                    "src/core/bad.cpp:1: core includes spdlog/spdlog.h",
                    "src/core/bad.cpp:2: core includes unistd.h",
                    "src/core/bad.cpp:3: core includes evsed/hw/io.hpp",
                    "include/evsed/mqtt/bad.hpp:1: mqtt includes evsed/meters/meter_type.hpp"]
        missing = [e for e in expected if not any(f.startswith(e) for f in found)]
        if missing or len(found) != len(expected):
            print("self-test: expected", expected, "found", found)
            return 1
        print("self-test: forbidden includes are refused:")
        for f in found:
            print("  " + f)
        return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    if not os.path.isdir(os.path.join(root, "src", "core")):
        print(f"{root}: no src/core here: not an evsed source tree")
        return 2
    found = violations(root)
    for f in found:
        print(f)
    if found:
        print(f"{len(found)} forbidden include(s); the rules are in docs/architecture.md")
        return 1
    print("every include is allowed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
