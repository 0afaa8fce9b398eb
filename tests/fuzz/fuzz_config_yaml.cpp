// Run configs of any content: load and validate, or a tb::Error with file:line:column — never
// a crash. A loaded config must survive the YAML round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/config/config_validation.h"
#include "core/config/config_yaml.h"
#include "core/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  try {
    const tb::LoadedConfig loaded = tb::load_config_string(yaml, "fuzz.yaml", "/nonexistent");
    tb::validate_config(loaded.config);
    const std::string written = tb::config_to_yaml(loaded.config);
    const tb::LoadedConfig again = tb::load_config_string(written, "again.yaml", "/nonexistent");
    if (!(again.config == loaded.config)) std::abort();  // the round trip must be exact
  } catch (const tb::Error&) {
    // Bad configs are refused with a located message.
  }
  return 0;
}
