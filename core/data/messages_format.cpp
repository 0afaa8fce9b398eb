#include "core/data/messages_format.h"

namespace tb::data {

std::vector<ColumnRole> MessagesFormat::roles() const {
  return {{"messages", "messages", true}, {"system", "system", false}};
}

MessageTags MessagesFormat::default_tags() const {
  MessageTags tags;
  tags.role_tag = "role";
  tags.content_tag = "content";
  tags.user_tag = "user";
  tags.assistant_tag = "assistant";
  tags.system_tag = "system";
  tags.observation_tag = "tool";
  tags.function_tag = "function";
  return tags;
}

}  // namespace tb::data
