#include "core/export/gguf_model.h"

#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/export/gguf_vocab.h"
#include "core/models/llama.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {

namespace {

using json = nlohmann::json;

// general.file_type values (llama_ftype) for the matrix type.
uint32_t file_type(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
      return 0;
    case GgmlType::kF16:
      return 1;
    case GgmlType::kQ8_0:
      return 7;
    case GgmlType::kBF16:
      return 32;
  }
  return 0;
}

// Llama 3's per-frequency divisors (rope_freqs.weight), as llama.cpp's converter computes them.
torch::Tensor llama3_rope_factors(const LlamaConfig& c) {
  const RopeScaling& s = c.rope_scaling;
  const double old_context = s.original_max_position_embeddings > 0
                                 ? double(s.original_max_position_embeddings)
                                 : double(c.max_position_embeddings);
  const double low_wavelen = old_context / s.low_freq_factor;
  const double high_wavelen = old_context / s.high_freq_factor;
  std::vector<float> factors;
  for (int64_t i = 0; i < c.head_dim; i += 2) {
    const double freq = 1.0 / std::pow(c.rope_theta, double(i) / double(c.head_dim));
    const double wavelen = 2 * M_PI / freq;
    if (wavelen < high_wavelen) {
      factors.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      factors.push_back(static_cast<float>(s.factor));
    } else {
      const double smooth =
          (old_context / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      factors.push_back(static_cast<float>(1.0 / ((1 - smooth) / s.factor + smooth)));
    }
  }
  return torch::tensor(factors);
}

}  // namespace

GgmlType parse_gguf_dtype(const std::string& text) {
  if (text == "f32") return GgmlType::kF32;
  if (text == "f16") return GgmlType::kF16;
  if (text == "bf16") return GgmlType::kBF16;
  if (text == "q8_0") return GgmlType::kQ8_0;
  throw make_error("unknown GGUF dtype \"" + text + "\"", "--dtype", "Use f32, f16, bf16 or q8_0.");
}

std::string gguf_architecture(const json& config) {
  const std::string type = config.value("model_type", "");
  if (type == "llama" || type == "mistral") return "llama";
  if (type == "qwen2" || type == "qwen3") return type;
  throw make_error("model_type \"" + type + "\" cannot be written to GGUF", "config.json",
                   "GGUF export supports llama, mistral, qwen2 and qwen3 causal LMs; use "
                   "--format merged for a Hugging Face folder.");
}

std::optional<std::string> gguf_tensor_name(const std::string& name) {
  static const std::vector<std::pair<std::string, std::string>> whole = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
  };
  for (const auto& [from, to] : whole) {
    if (name == from) return to;
  }
  static const std::vector<std::pair<std::string, std::string>> per_layer = {
      {"input_layernorm", "attn_norm"},    {"self_attn.q_proj", "attn_q"},
      {"self_attn.k_proj", "attn_k"},      {"self_attn.v_proj", "attn_v"},
      {"self_attn.o_proj", "attn_output"}, {"self_attn.q_norm", "attn_q_norm"},
      {"self_attn.k_norm", "attn_k_norm"}, {"post_attention_layernorm", "ffn_norm"},
      {"mlp.gate_proj", "ffn_gate"},       {"mlp.up_proj", "ffn_up"},
      {"mlp.down_proj", "ffn_down"},
  };
  // "model.layers.<n>.<module>.(weight|bias)"
  const std::string prefix = "model.layers.";
  if (name.rfind(prefix, 0) != 0) return std::nullopt;
  const auto layer = find_numbered_component(name, prefix.size() - 1);
  if (!layer || layer->begin != prefix.size() || layer->end == name.size()) return std::nullopt;
  const size_t last_dot = name.rfind('.');
  const std::string kind = name.substr(last_dot + 1);
  if (last_dot <= layer->end + 1 || (kind != "weight" && kind != "bias")) return std::nullopt;
  const std::string module = name.substr(layer->end + 1, last_dot - layer->end - 1);
  for (const auto& [from, to] : per_layer) {
    if (module == from) return "blk." + std::to_string(layer->number) + "." + to + "." + kind;
  }
  return std::nullopt;
}

torch::Tensor permute_for_llama_rope(const torch::Tensor& weight, int64_t heads) {
  const int64_t rows = weight.size(0);
  std::vector<int64_t> split = {heads, 2, rows / heads / 2};
  for (int64_t d = 1; d < weight.dim(); ++d) split.push_back(weight.size(d));
  return weight.reshape(split).transpose(1, 2).reshape(weight.sizes()).contiguous();
}

GgufWriter gguf_for_model(const json& config, const TensorList& state,
                          const std::filesystem::path& tokenizer_folder,
                          const GgufModelOptions& options) {
  const std::string arch = gguf_architecture(config);
  const std::string architecture =
      config.value("architectures", json::array({""})).at(0).get<std::string>();
  if (architecture.find("ForCausalLM") == std::string::npos) {
    throw make_error(architecture + " is not a causal language model", "config.json",
                     "llama.cpp runs ...ForCausalLM models; export a classifier as --format "
                     "merged or peft.");
  }
  const LlamaConfig c = llama_config_from_json(config, "config.json");
  GgufWriter writer;
  auto u32 = [](int64_t value) { return GgufValue::u32(static_cast<uint32_t>(value)); };
  writer.set("general.architecture", GgufValue::string(arch));
  writer.set("general.type", GgufValue::string("model"));
  std::string name = options.name;
  if (name.empty()) name = config.value("_name_or_path", std::string("tunebench export"));
  writer.set("general.name", GgufValue::string(name));
  writer.set("general.file_type", u32(file_type(options.matrix_type)));
  if (options.matrix_type == GgmlType::kQ8_0) {
    writer.set("general.quantization_version", u32(2));
  }
  writer.set(arch + ".vocab_size", u32(c.vocab_size));
  writer.set(arch + ".context_length", u32(c.max_position_embeddings));
  writer.set(arch + ".embedding_length", u32(c.hidden_size));
  writer.set(arch + ".block_count", u32(c.num_hidden_layers));
  writer.set(arch + ".feed_forward_length", u32(c.intermediate_size));
  writer.set(arch + ".attention.head_count", u32(c.num_attention_heads));
  writer.set(arch + ".attention.head_count_kv", u32(c.num_key_value_heads));
  writer.set(arch + ".attention.key_length", u32(c.head_dim));
  writer.set(arch + ".attention.value_length", u32(c.head_dim));
  writer.set(arch + ".attention.layer_norm_rms_epsilon",
             GgufValue::f32(static_cast<float>(c.rms_norm_eps)));
  writer.set(arch + ".rope.freq_base", GgufValue::f32(static_cast<float>(c.rope_theta)));
  writer.set(arch + ".rope.dimension_count", u32(c.head_dim));
  const std::string scaling = c.rope_scaling.type;
  if (scaling == "linear") {
    writer.set(arch + ".rope.scaling.type", GgufValue::string("linear"));
    writer.set(arch + ".rope.scaling.factor",
               GgufValue::f32(static_cast<float>(c.rope_scaling.factor)));
  } else if (scaling != "default" && scaling != "llama3") {
    throw make_error("rope_scaling type \"" + scaling + "\" has no GGUF equivalent here",
                     "config.json", "Export as --format merged.");
  }
  if (c.hidden_act != "silu") {
    throw make_error("hidden_act \"" + c.hidden_act + "\": llama.cpp's " + arch + " uses SiLU",
                     "config.json");
  }
  add_gguf_tokenizer(writer, tokenizer_folder, c.vocab_size, config);

  if (scaling == "llama3") {
    writer.add_tensor("rope_freqs.weight", llama3_rope_factors(c), GgmlType::kF32);
  }
  const bool permute = arch == "llama";
  for (const auto& [hf_name, tensor] : state) {
    const std::optional<std::string> gguf_name = gguf_tensor_name(hf_name);
    if (!gguf_name) {
      throw make_error("tensor \"" + hf_name + "\" has no llama.cpp counterpart",
                       "GGUF export of " + architecture,
                       "Export as --format merged (Hugging Face folder) instead.");
    }
    // Kept as loaded (often zero-copy from the memory map); encoded one by one on write.
    torch::Tensor data = tensor.detach();
    if (permute && hf_name.find("self_attn.q_proj.") != std::string::npos) {
      data = permute_for_llama_rope(data, c.num_attention_heads);
    } else if (permute && hf_name.find("self_attn.k_proj.") != std::string::npos) {
      data = permute_for_llama_rope(data, c.num_key_value_heads);
    }
    GgmlType type = data.dim() < 2 ? GgmlType::kF32 : options.matrix_type;
    if (type == GgmlType::kQ8_0 && data.size(-1) % 32 != 0) type = GgmlType::kF16;
    writer.add_tensor(*gguf_name, data, type);
  }
  return writer;
}

}  // namespace tb
