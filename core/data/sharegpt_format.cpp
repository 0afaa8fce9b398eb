#include "core/data/sharegpt_format.h"

#include "core/util/text.h"

namespace tb::data {

std::vector<ColumnRole> ShareGptFormat::roles() const {
  return {{"messages", "conversations", true}, {"system", "system", false}};
}

Sample ShareGptFormat::convert(const Row& row) const {
  const MessageTags tag = tags();
  Sample sample;
  sample.row = row.index;
  sample.system = text(row, "system");
  const Value* messages = field(row, "messages");
  if (messages->type != Value::Type::kList) {
    fail(row,
         "column '" + column("messages") + "' holds a " + messages->type_name() +
             ", not a list of messages",
         "Each row needs a list such as [{\"" + tag.role_tag + "\": \"" + tag.user_tag + "\", \"" +
             tag.content_tag + "\": \"...\"}].");
  }
  for (size_t k = 0; k < messages->items.size(); ++k) {
    const Value& message = messages->items[k];
    const Value* speaker = message.find(tag.role_tag);
    const Value* content = message.find(tag.content_tag);
    const std::string where = "message " + std::to_string(k + 1);
    if (!speaker || speaker->type != Value::Type::kString) {
      fail(row,
           where + " has no '" + tag.role_tag + "' key; keys found: " + join(message.keys(), ", "),
           "Set the role key with tags.role_tag in dataset_info.json.");
    }
    std::string body;
    if (content && content->type == Value::Type::kString) {
      body = content->text;
    } else if (content && content->type == Value::Type::kList) {
      // OpenAI-style content parts: the text parts, in order.
      for (const Value& part : content->items) {
        if (const Value* part_text = part.find("text")) body += part_text->to_display();
      }
    } else {
      fail(row,
           where + " has no text under '" + tag.content_tag +
               "'; keys found: " + join(message.keys(), ", "),
           "Set the content key with tags.content_tag in dataset_info.json.");
    }
    const std::string& who = speaker->text;
    if (who == tag.system_tag && k == 0) {
      sample.system = body;
    } else if (who == tag.user_tag) {
      sample.messages.push_back({"user", body});
    } else if (who == tag.assistant_tag) {
      sample.messages.push_back({"assistant", body});
    } else if (who == tag.observation_tag) {
      sample.messages.push_back({"observation", body});
    } else if (who == tag.function_tag) {
      sample.messages.push_back({"function", body});
    } else {
      fail(row, where + " has the unknown role '" + who + "'",
           "Known roles: " +
               join({tag.user_tag, tag.assistant_tag, tag.system_tag + " (first message only)",
                     tag.observation_tag, tag.function_tag},
                    ", ") +
               "; rename them with tags in dataset_info.json.");
    }
  }
  if (sample.messages.empty()) {
    fail(row, "the conversation has no user or assistant turn", "Remove the row or fill it.");
  }
  return sample;
}

}  // namespace tb::data
