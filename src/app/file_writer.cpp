#include "evsed/app/file_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace evsed::app {

namespace {

std::string sys_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

void sync_directory(const std::string& path) {
  const int dfd = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

std::optional<std::string> write_file_atomically(const std::string& path, const std::string& content,
                                                 FileSecrecy secrecy) {
  const std::string tmp = path + ".tmp";
  // Whatever is at the temporary name (a leftover, or a planted link) goes:
  // unlink removes a link itself, never its target. The new file is created
  // exclusively and may not be a link.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return sys_error("remove", tmp);
  const mode_t mode = secrecy == FileSecrecy::Secret ? 0600 : 0644;
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return sys_error("open", tmp);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto e = sys_error("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto e = sys_error("fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  if (::close(fd) != 0) return sys_error("close", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto e = sys_error("rename", tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  sync_directory(path);  // the rename itself must reach the disk too
  return std::nullopt;
}

std::optional<std::string> remove_file_durably(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return std::nullopt;
    return sys_error("remove", path);
  }
  sync_directory(path);
  return std::nullopt;
}

FileWriter::FileWriter(Post post) : post_(std::move(post)) {}

FileWriter::~FileWriter() { thread_.drain(); }

void FileWriter::submit(std::vector<FileOp> ops, Done done) {
  thread_.submit([this, ops = std::move(ops), done = std::move(done)]() mutable {
    std::optional<std::string> error;
    for (const auto& op : ops) {
      error = op.kind == FileOp::Kind::Write ? write_file_atomically(op.path, op.content, op.secrecy)
                                             : remove_file_durably(op.path);
      if (error) break;
    }
    if (done) post_([done = std::move(done), error = std::move(error)] { done(error); });
  });
}

void FileWriter::drain() { thread_.drain(); }

}  // namespace evsed::app
