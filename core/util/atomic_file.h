#pragma once
// Crash-safe file writes: the target either keeps its old content or gets the complete new
// content, never a half-written file (write a temp file beside it, fsync, rename, fsync dir).

#include <filesystem>
#include <functional>
#include <ostream>
#include <string_view>

namespace tb {

/// Writes `bytes` to `path` atomically; throws tb::Error naming the path and the OS reason.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

/// Streams content into `path` atomically: `fill` writes to the stream; on any exception
/// the temp file is removed and the target is left untouched.
void write_file_atomic(const std::filesystem::path& path,
                       const std::function<void(std::ostream&)>& fill);

/// Receives one piece of a file being written (see write_file_atomic_pieces).
using PieceWriter = std::function<void(std::string_view bytes)>;

/// Writes `path` atomically from pieces: `fill` hands each piece to the writer it is given,
/// so large files (model weights) are never held in memory as a whole. On any exception the
/// temp file is removed and the target is left untouched.
void write_file_atomic_pieces(const std::filesystem::path& path,
                              const std::function<void(const PieceWriter& write)>& fill);

/// Reads a whole file; throws tb::Error naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace tb
