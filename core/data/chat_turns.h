#pragma once
// A chat sample rendered by a chat template into the turns SFT learns from: the text before
// each assistant reply (prompt, no loss) and the reply itself (the targets).

#include <string>
#include <vector>

#include "core/data/sample.h"
#include "core/data/sft_examples.h"
#include "core/tokenizer/chat_template.h"

namespace tb::data {

/// The turns of `sample` under `chat_template`: for each assistant message, the text the
/// template writes before it (generation prompt included) and the reply with its suffix.
/// Messages after the last assistant reply are dropped. tb::Error (naming the row) when the
/// sample has no assistant reply or the template does not render conversations as prefixes.
std::vector<RenderedTurn> render_sft_turns(const ChatTemplate& chat_template, const Sample& sample);

/// The prompt of the last assistant reply of `sample` (generation prompt included) and that
/// reply's content: what an exact-match evaluation asks and expects.
std::pair<std::string, std::string> last_reply_prompt(const ChatTemplate& chat_template,
                                                      const Sample& sample);

}  // namespace tb::data
