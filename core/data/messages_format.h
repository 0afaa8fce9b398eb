#pragma once
// messages: OpenAI-style [{"role": "user"|"assistant"|"system"|"tool", "content": ...}].

#include "core/data/sharegpt_format.h"

namespace tb::data {

/// sharegpt with OpenAI's keys and role names under a "messages" column.
class MessagesFormat : public ShareGptFormat {
 public:
  std::string name() const override { return "messages"; }
  /// messages→messages (required), system.
  std::vector<ColumnRole> roles() const override;

 protected:
  MessageTags default_tags() const override;
};

}  // namespace tb::data
