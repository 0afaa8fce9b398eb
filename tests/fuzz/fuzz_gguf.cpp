// GGUF, both directions. The first byte picks the mode:
// - even: the rest is a file for the reader (GgufFile): it loads or gives a tb::Error naming the
//   file and offset — never a crash, a huge allocation or a read past the end;
// - odd: the rest describes metadata and tensors for the writer (keys and values of every
//   GGUF type, tensors of rank 1–4 in F32/F16/BF16/Q8_0). Whatever the writer accepts must read
//   back exactly: the same keys in order with equal values, the same tensor infos, and data
//   within the type's rounding (GgufWriter::verify).
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "core/io/gguf.h"
#include "core/util/error.h"

namespace {

using tb::GgufType;
using tb::GgufValue;

const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("tb-fuzz-gguf-" + std::to_string(getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return dir;
}

void read_any_file(FuzzedDataProvider& input) {
  const std::filesystem::path path = scratch_dir() / "input.gguf";
  const std::string bytes = input.ConsumeRemainingBytesAsString();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  try {
    const tb::GgufFile file(path);
    for (const tb::GgufTensorInfo& info : file.tensors()) {
      try {
        (void)file.tensor(info.name);
      } catch (const tb::Error&) {
        // a tensor whose data lies outside the file is refused by name
      }
    }
  } catch (const tb::Error&) {
  }
}

// One metadata value of a type the provider picks; floats are stored as the file will hold
// them (f32 rounded) so equality after the round trip is exact.
void add_element(FuzzedDataProvider& input, GgufType type, GgufValue& value) {
  switch (type) {
    case GgufType::kUint8:
      value.ints.push_back(input.ConsumeIntegral<uint8_t>());
      break;
    case GgufType::kInt8:
      value.ints.push_back(input.ConsumeIntegral<int8_t>());
      break;
    case GgufType::kUint16:
      value.ints.push_back(input.ConsumeIntegral<uint16_t>());
      break;
    case GgufType::kInt16:
      value.ints.push_back(input.ConsumeIntegral<int16_t>());
      break;
    case GgufType::kUint32:
      value.ints.push_back(input.ConsumeIntegral<uint32_t>());
      break;
    case GgufType::kInt32:
      value.ints.push_back(input.ConsumeIntegral<int32_t>());
      break;
    case GgufType::kUint64:
      value.ints.push_back(static_cast<int64_t>(input.ConsumeIntegral<uint64_t>()));
      break;
    case GgufType::kInt64:
      value.ints.push_back(input.ConsumeIntegral<int64_t>());
      break;
    case GgufType::kBool:
      value.ints.push_back(input.ConsumeBool() ? 1 : 0);
      break;
    case GgufType::kFloat32: {
      const float number = input.ConsumeFloatingPoint<float>();
      value.floats.push_back(std::isnan(number) ? 0.0 : static_cast<double>(number));
      break;
    }
    case GgufType::kFloat64: {
      const double number = input.ConsumeFloatingPoint<double>();
      value.floats.push_back(std::isnan(number) ? 0.0 : number);
      break;
    }
    case GgufType::kString:
      value.strings.push_back(input.ConsumeRandomLengthString(64));
      break;
    case GgufType::kArray:
      std::abort();
  }
}

const GgufType kScalarTypes[] = {
    GgufType::kUint8,  GgufType::kInt8,   GgufType::kUint16,  GgufType::kInt16,
    GgufType::kUint32, GgufType::kInt32,  GgufType::kFloat32, GgufType::kBool,
    GgufType::kString, GgufType::kUint64, GgufType::kInt64,   GgufType::kFloat64,
};

GgufValue make_value(FuzzedDataProvider& input) {
  GgufValue value;
  const bool array = input.ConsumeBool();
  const GgufType type = input.PickValueInArray(kScalarTypes);
  value.type = array ? GgufType::kArray : type;
  value.element_type = type;
  const int count = array ? input.ConsumeIntegralInRange(0, 16) : 1;
  for (int i = 0; i < count; ++i) add_element(input, type, value);
  return value;
}

torch::Tensor make_tensor(FuzzedDataProvider& input, tb::GgmlType type) {
  const int rank = input.ConsumeIntegralInRange(1, 4);
  std::vector<int64_t> shape;
  for (int d = 0; d < rank; ++d) shape.push_back(input.ConsumeIntegralInRange<int64_t>(1, 6));
  if (type == tb::GgmlType::kQ8_0) shape.back() = 32 * input.ConsumeIntegralInRange<int64_t>(1, 2);
  torch::Tensor tensor = torch::empty(shape, torch::kFloat32);
  float* values = tensor.data_ptr<float>();
  // Finite values within f16's range: the types cannot hold others and the writer is given
  // model weights, which are finite.
  for (int64_t i = 0; i < tensor.numel(); ++i) {
    values[i] = input.ConsumeFloatingPointInRange<float>(-60000.0f, 60000.0f);
  }
  return tensor;
}

void write_and_read_back(FuzzedDataProvider& input) {
  const tb::GgmlType kTypes[] = {tb::GgmlType::kF32, tb::GgmlType::kF16, tb::GgmlType::kBF16,
                                 tb::GgmlType::kQ8_0};
  tb::GgufWriter writer;
  std::vector<std::pair<std::string, GgufValue>> expected;  // what the file must hold, in order
  const int keys = input.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < keys; ++i) {
    std::string key = input.ConsumeRandomLengthString(24);
    GgufValue value = make_value(input);
    bool replaced = false;
    for (auto& [existing, held] : expected) {
      if (existing == key) held = value, replaced = true;
    }
    if (!replaced) expected.emplace_back(key, value);
    writer.set(key, std::move(value));
  }
  std::vector<tb::GgufTensorInfo> infos;
  const int tensors = input.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < tensors; ++i) {
    const std::string name = input.ConsumeRandomLengthString(24);
    const tb::GgmlType type = input.PickValueInArray(kTypes);
    const torch::Tensor tensor = make_tensor(input, type);
    try {
      writer.add_tensor(name, tensor, type);
    } catch (const tb::Error&) {
      continue;  // a repeated name is refused by name
    }
    tb::GgufTensorInfo info;
    info.name = name;
    info.type = type;
    for (int64_t d = tensor.dim() - 1; d >= 0; --d) info.dims.push_back(tensor.size(d));
    infos.push_back(info);
  }
  const std::filesystem::path path = scratch_dir() / "written.gguf";
  writer.write(path);
  if (std::filesystem::file_size(path) != writer.file_bytes()) std::abort();
  writer.verify(path);  // tensor data within rounding, counts equal; throws otherwise
  const tb::GgufFile file(path);
  if (file.metadata().size() != expected.size()) std::abort();
  for (size_t i = 0; i < expected.size(); ++i) {
    if (file.metadata()[i].first != expected[i].first) std::abort();
    if (!(file.metadata()[i].second == expected[i].second)) std::abort();
  }
  if (file.tensors().size() != infos.size()) std::abort();
  for (size_t i = 0; i < infos.size(); ++i) {
    const tb::GgufTensorInfo& got = file.tensors()[i];
    if (got.name != infos[i].name || got.dims != infos[i].dims || got.type != infos[i].type) {
      std::abort();
    }
    if (got.offset % 32 != 0) std::abort();  // every tensor aligned as llama.cpp requires
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  if (input.ConsumeIntegral<uint8_t>() % 2 == 0) {
    read_any_file(input);
  } else {
    write_and_read_back(input);  // any tb::Error here is a writer bug: it escapes and fails
  }
  return 0;
}
