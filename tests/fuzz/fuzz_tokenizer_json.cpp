// tokenizer.json of any content: loads or is refused with a tb::Error, never crashes. A loaded
// tokenizer must also encode and decode a fixed text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  try {
    const tb::Tokenizer tokenizer = tb::Tokenizer::from_json(json, "fuzz tokenizer.json");
    const auto ids = tokenizer.encode_ids("Hello wörld, 1234 <s> tokens!\n", true);
    tokenizer.decode(ids, false);
  } catch (const tb::Error&) {
    // A clear refusal is the expected outcome for most inputs.
  }
  return 0;
}
