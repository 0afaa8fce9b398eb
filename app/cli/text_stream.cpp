#include "app/cli/text_stream.h"

#include <iostream>

namespace tb::cli {

bool TextStream::add(int64_t token) {
  const std::string fresh = decoder_.add(token);
  if (!fresh.empty()) std::cout << fresh << std::flush;
  return true;
}

}  // namespace tb::cli
