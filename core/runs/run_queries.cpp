// RunStore's read side: single runs, filtered lists, metric series with downsampling,
// events, artifacts and config diffs.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "core/runs/run_store.h"
#include "core/runs/run_store_impl.h"
#include "core/util/error.h"

namespace tb {

namespace {

constexpr char kTagSeparator = '\x1f';  // ASCII unit separator: never in a tag someone types

std::vector<std::string> split_tags(const std::string& joined) {
  std::vector<std::string> tags;
  std::string tag;
  std::istringstream in(joined);
  while (std::getline(in, tag, kTagSeparator)) {
    if (!tag.empty()) tags.push_back(tag);
  }
  std::sort(tags.begin(), tags.end());
  return tags;
}

std::optional<double> optional_double(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getDouble();
}

const char* sort_column(RunSort sort) {
  switch (sort) {
    case RunSort::kName:
      return "name COLLATE NOCASE";
    case RunSort::kStatus:
      return "status";
    case RunSort::kMethod:
      return "method";
    case RunSort::kLastStep:
      return "last_step";
    case RunSort::kCreated:
      break;
  }
  return "created_at";
}

std::string like_pattern(const std::string& text) {
  std::string pattern = "%";
  for (const char c : text) {
    if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
    pattern.push_back(c);
  }
  return pattern + "%";
}

// Keeps the first and last point and, for each bucket of the interior, its min and max in
// step order: peaks and dips survive, so a downsampled loss curve looks like the full one.
std::vector<MetricPoint> downsample_min_max(const std::vector<MetricPoint>& points,
                                            int max_points) {
  const size_t n = points.size();
  if (max_points <= 0 || n <= static_cast<size_t>(max_points) || max_points < 4) {
    if (max_points > 0 && max_points < 4 && n > static_cast<size_t>(max_points)) {
      return {points.front(), points.back()};
    }
    return points;
  }
  const size_t buckets = static_cast<size_t>(max_points - 2) / 2;
  const size_t interior = n - 2;
  std::vector<MetricPoint> result;
  result.reserve(static_cast<size_t>(max_points));
  result.push_back(points.front());
  for (size_t bucket = 0; bucket < buckets; ++bucket) {
    const size_t begin = 1 + bucket * interior / buckets;
    const size_t end = 1 + (bucket + 1) * interior / buckets;
    if (begin >= end) continue;
    size_t low = begin, high = begin;
    for (size_t i = begin + 1; i < end; ++i) {
      if (points[i].value < points[low].value) low = i;
      if (points[i].value > points[high].value) high = i;
    }
    result.push_back(points[std::min(low, high)]);
    if (low != high) result.push_back(points[std::max(low, high)]);
  }
  result.push_back(points.back());
  return result;
}

void flatten_yaml(const YAML::Node& node, const std::string& prefix,
                  std::vector<std::pair<std::string, std::string>>& out) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      const std::string key = entry.first.as<std::string>();
      flatten_yaml(entry.second, prefix.empty() ? key : prefix + "." + key, out);
    }
  } else if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      flatten_yaml(node[i], prefix + "[" + std::to_string(i) + "]", out);
    }
  } else if (node.IsScalar()) {
    out.emplace_back(prefix, node.Scalar());
  } else if (node.IsNull() && !prefix.empty()) {
    out.emplace_back(prefix, "null");
  }
}

}  // namespace

const char* const kRunColumns =
    "id, name, status, task, method, model_path, dataset, subset, config_hash, created_at, "
    "started_at, finished_at, heartbeat_at, pid, host, device, last_step, last_checkpoint, "
    "summary_json, output_dir, error_text, notes, "
    "(SELECT group_concat(tag, char(31)) FROM run_tags WHERE run_id = runs.id), config_yaml";

RunRecord read_run_row(SQLite::Statement& q, bool with_config) {
  RunRecord run;
  int c = 0;
  run.id = q.getColumn(c++).getInt64();
  run.name = q.getColumn(c++).getString();
  run.status = parse_run_status(q.getColumn(c++).getString());
  run.task = q.getColumn(c++).getString();
  run.method = q.getColumn(c++).getString();
  run.model_path = q.getColumn(c++).getString();
  run.dataset = q.getColumn(c++).getString();
  run.subset = q.getColumn(c++).getString();
  run.config_hash = q.getColumn(c++).getString();
  run.created_at = q.getColumn(c++).getDouble();
  run.started_at = optional_double(q.getColumn(c++));
  run.finished_at = optional_double(q.getColumn(c++));
  run.heartbeat_at = optional_double(q.getColumn(c++));
  run.pid = q.getColumn(c++).getInt64();
  run.host = q.getColumn(c++).getString();
  run.device = q.getColumn(c++).getString();
  run.last_step = q.getColumn(c++).getInt64();
  run.last_checkpoint = q.getColumn(c++).getString();
  run.summary_json = q.getColumn(c++).getString();
  run.output_dir = q.getColumn(c++).getString();
  run.error_text = q.getColumn(c++).getString();
  run.notes = q.getColumn(c++).getString();
  run.tags = split_tags(q.getColumn(c++).getString());
  if (with_config) run.config_yaml = q.getColumn(c).getString();
  return run;
}

RunRecord RunStore::get_run(int64_t run_id) const {
  try {
    SQLite::Statement query(*impl_->db,
                            std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
    query.bind(1, run_id);
    if (!query.executeStep()) impl_->require_run(run_id);  // throws the friendly error
    return read_run_row(query, true);
  } catch (const SQLite::Exception& error) {
    throw_sql_error(error, impl_->where(), "reading run " + std::to_string(run_id));
  }
}

std::vector<RunRecord> RunStore::list_runs(const RunFilter& filter) const {
  std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE 1";
  std::vector<std::string> texts;
  if (filter.status) sql += " AND status = ?", texts.push_back(to_string(*filter.status));
  if (!filter.method.empty()) sql += " AND method = ?", texts.push_back(filter.method);
  if (!filter.task.empty()) sql += " AND task = ?", texts.push_back(filter.task);
  if (!filter.tag.empty()) {
    sql += " AND id IN (SELECT run_id FROM run_tags WHERE tag = ?)";
    texts.push_back(filter.tag);
  }
  if (!filter.search.empty()) {
    sql +=
        " AND (name LIKE :search ESCAPE '\\' OR model_path LIKE :search ESCAPE '\\' OR dataset "
        "LIKE :search ESCAPE '\\' OR notes LIKE :search ESCAPE '\\' OR id IN (SELECT run_id "
        "FROM run_tags WHERE tag LIKE :search ESCAPE '\\'))";
  }
  sql += std::string(" ORDER BY ") + sort_column(filter.sort) +
         (filter.descending ? " DESC" : " ASC") + ", id" + (filter.descending ? " DESC" : "");
  if (filter.limit > 0) {
    sql += " LIMIT " + std::to_string(filter.limit) + " OFFSET " + std::to_string(filter.offset);
  }
  try {
    SQLite::Statement query(*impl_->db, sql);
    int index = 1;
    for (const std::string& text : texts) query.bind(index++, text);
    // One named parameter serves all five LIKEs.
    if (!filter.search.empty()) query.bind(":search", like_pattern(filter.search));
    std::vector<RunRecord> runs;
    while (query.executeStep()) runs.push_back(read_run_row(query, false));
    return runs;
  } catch (const SQLite::Exception& error) {
    throw_sql_error(error, impl_->where(), "listing runs");
  }
}

std::vector<std::string> RunStore::metric_names(int64_t run_id) const {
  SQLite::Statement query(*impl_->db,
                          "SELECT name FROM metric_names WHERE id IN "
                          "(SELECT DISTINCT name_id FROM metrics WHERE run_id = ?) ORDER BY name");
  query.bind(1, run_id);
  std::vector<std::string> names;
  while (query.executeStep()) names.push_back(query.getColumn(0).getString());
  return names;
}

std::vector<MetricSeries> RunStore::series(const std::vector<int64_t>& run_ids,
                                           const std::vector<std::string>& names,
                                           int max_points) const {
  std::vector<MetricSeries> result;
  try {
    SQLite::Statement query(*impl_->db,
                            "SELECT step, epoch, tokens, wall, value FROM metrics WHERE run_id = ? "
                            "AND name_id = (SELECT id FROM metric_names WHERE name = ?) "
                            "ORDER BY step");
    for (const int64_t run_id : run_ids) {
      for (const std::string& name : names) {
        MetricSeries series{run_id, name, 0, {}};
        query.bind(1, run_id);
        query.bind(2, name);
        while (query.executeStep()) {
          series.points.push_back({query.getColumn(0).getInt64(), query.getColumn(1).getDouble(),
                                   query.getColumn(2).getInt64(), query.getColumn(3).getDouble(),
                                   query.getColumn(4).getDouble()});
        }
        query.reset();
        series.total_points = static_cast<int64_t>(series.points.size());
        series.points = downsample_min_max(series.points, max_points);
        result.push_back(std::move(series));
      }
    }
  } catch (const SQLite::Exception& error) {
    throw_sql_error(error, impl_->where(), "reading metric series");
  }
  return result;
}

std::vector<RunEvent> RunStore::events(int64_t run_id) const {
  SQLite::Statement query(*impl_->db,
                          "SELECT time, level, message FROM events WHERE run_id = ? ORDER BY id");
  query.bind(1, run_id);
  std::vector<RunEvent> events;
  while (query.executeStep()) {
    events.push_back({query.getColumn(0).getDouble(), query.getColumn(1).getString(),
                      query.getColumn(2).getString()});
  }
  return events;
}

std::vector<RunArtifact> RunStore::artifacts(int64_t run_id) const {
  SQLite::Statement query(*impl_->db,
                          "SELECT kind, path, size, created_at FROM artifacts WHERE run_id = ? "
                          "ORDER BY id");
  query.bind(1, run_id);
  std::vector<RunArtifact> artifacts;
  while (query.executeStep()) {
    artifacts.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(),
                         query.getColumn(2).getInt64(), query.getColumn(3).getDouble()});
  }
  return artifacts;
}

std::vector<ConfigDiffRow> RunStore::config_diff(const std::vector<int64_t>& run_ids) const {
  std::vector<std::string> key_order;
  std::map<std::string, std::vector<std::string>> values;
  for (size_t column = 0; column < run_ids.size(); ++column) {
    const RunRecord run = get_run(run_ids[column]);
    std::vector<std::pair<std::string, std::string>> flat;
    try {
      flatten_yaml(YAML::Load(run.config_yaml), "", flat);
    } catch (const YAML::Exception& error) {
      throw make_error("the stored config of run " + std::to_string(run.id) +
                           " is not valid YAML (" + error.what() + ")",
                       impl_->where());
    }
    for (const auto& [key, value] : flat) {
      auto [slot, inserted] = values.try_emplace(key, run_ids.size(), std::string());
      if (inserted) key_order.push_back(key);
      slot->second[column] = value;
    }
  }
  std::vector<ConfigDiffRow> rows;
  for (const std::string& key : key_order) {
    const std::vector<std::string>& row = values[key];
    if (std::adjacent_find(row.begin(), row.end(), std::not_equal_to<>()) != row.end()) {
      rows.push_back({key, row});
    }
  }
  return rows;
}

}  // namespace tb
