#pragma once
// sharegpt: a list of {"from": "human"|"gpt"|..., "value": text} under "conversations".

#include "core/data/format.h"

namespace tb::data {

/// Speaker names map to roles through MessageTags; a leading system turn becomes the system
/// prompt; unknown speakers and non-text content are errors naming the row.
class ShareGptFormat : public Format {
 public:
  std::string name() const override { return "sharegpt"; }
  /// messages→conversations (required), system.
  std::vector<ColumnRole> roles() const override;
  Sample convert(const Row& row) const override;

 protected:
  /// The tags in force: the options' when given, else this format's defaults.
  virtual MessageTags default_tags() const { return {}; }
  MessageTags tags() const { return options_.tags_given ? options_.tags : default_tags(); }
};

}  // namespace tb::data
