#include "data/manifest.h"

#include <yaml-cpp/yaml.h>

#include "core/error.h"
#include "core/files.h"
#include "core/strings.h"

namespace ankh::data {

SplitTotals Manifest::totals(Split split) const {
  SplitTotals t;
  for (const auto& s : shards) {
    if (s.split != split) continue;
    t.sequences += s.sequences;
    t.residues += s.residues;
    ++t.shards;
  }
  return t;
}

std::optional<Composition> Manifest::composition(Split split) const {
  Composition sum;
  for (const auto& s : shards) {
    if (s.split != split) continue;
    if (!s.composition) return std::nullopt;
    sum += *s.composition;
  }
  return sum;
}

std::string Manifest::to_yaml() const {
  YAML::Emitter out;
  out << YAML::Comment("ankh dataset manifest: written last by `ankh preprocess`; see docs/formats.md");
  out << YAML::BeginMap;
  out << YAML::Key << "format" << YAML::Value << format;
  out << YAML::Key << "format_version" << YAML::Value << format_version;
  out << YAML::Key << "vocabulary" << YAML::Value << vocabulary;
  out << YAML::Key << "created_by" << YAML::Value << created_by;
  out << YAML::Key << "on_invalid" << YAML::Value << on_invalid;
  out << YAML::Key << "valid_fraction" << YAML::Value << core::format_double(valid_fraction);  // shortest exact text
  out << YAML::Key << "sources" << YAML::Value << YAML::BeginSeq;
  for (const auto& s : sources) {
    out << YAML::Flow << YAML::BeginMap << YAML::Key << "path" << YAML::Value << s.path << YAML::Key << "bytes"
        << YAML::Value << s.bytes << YAML::Key << "records" << YAML::Value << s.records << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "counts" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "records" << YAML::Value << counts.records;
  out << YAML::Key << "sequences" << YAML::Value << counts.sequences;
  out << YAML::Key << "residues" << YAML::Value << counts.residues;
  out << YAML::Key << "empty_records" << YAML::Value << counts.empty_records;
  out << YAML::Key << "stripped_stops" << YAML::Value << counts.stripped_stops;
  out << YAML::Key << "invalid_characters" << YAML::Value << counts.invalid_characters;
  out << YAML::Key << "records_with_invalid" << YAML::Value << counts.records_with_invalid;
  out << YAML::Key << "unknown_residues" << YAML::Value << counts.unknown_residues;
  out << YAML::Key << "skipped_invalid" << YAML::Value << counts.skipped_invalid;
  out << YAML::Key << "duplicate_ids" << YAML::Value << counts.duplicate_ids;
  out << YAML::EndMap;
  out << YAML::Key << "totals" << YAML::Value << YAML::BeginMap;
  for (Split split : {Split::Train, Split::Valid}) {
    const SplitTotals t = totals(split);
    out << YAML::Key << name_of(split) << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "sequences"
        << YAML::Value << t.sequences << YAML::Key << "residues" << YAML::Value << t.residues << YAML::Key << "shards"
        << YAML::Value << t.shards << YAML::EndMap;
  }
  out << YAML::EndMap;
  out << YAML::Key << "shards" << YAML::Value << YAML::BeginSeq;
  for (const auto& s : shards) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "file" << YAML::Value << s.file;
    out << YAML::Key << "split" << YAML::Value << name_of(s.split);
    out << YAML::Key << "sequences" << YAML::Value << s.sequences;
    out << YAML::Key << "residues" << YAML::Value << s.residues;
    out << YAML::Key << "tokens_crc32" << YAML::Value << s.tokens_crc32;
    out << YAML::Key << "offsets_crc32" << YAML::Value << s.offsets_crc32;
    out << YAML::Key << "bytes" << YAML::Value << s.file_bytes;
    if (s.composition) {  // the tokens that occur, in vocabulary order
      out << YAML::Key << "composition" << YAML::Value << YAML::Flow << YAML::BeginMap;
      for (int k = 0; k < Composition::kSize; ++k)
        if (const int64_t c = s.composition->counts[static_cast<std::size_t>(k)]; c > 0)
          out << YAML::Key << composition_key(k) << YAML::Value << c;
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

namespace {

// Typed access with errors that name the manifest and the key.
class Reader {
 public:
  explicit Reader(std::string where) : where_(std::move(where)) {}

  YAML::Node need(const YAML::Node& map, const std::string& key, const std::string& path) const {
    if (!map.IsMap() || !map[key]) fail("missing key '" + path + key + "'");
    return map[key];
  }
  template <class T>
  T get(const YAML::Node& map, const std::string& key, const std::string& path = "") const {
    const YAML::Node n = need(map, key, path);
    try {
      return n.as<T>();
    } catch (const YAML::Exception&) {
      fail("key '" + path + key + "' has an unexpected value '" + (n.IsScalar() ? n.Scalar() : "(not a scalar)") + "'");
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw core::InputError("malformed dataset manifest: " + what, where_,
                           "the manifest is written by `ankh preprocess`; re-run it to rebuild the dataset");
  }

 private:
  std::string where_;
};

// A shard's `composition:` map: token name -> count, summing to the shard's residues.
Composition read_composition(const Reader& r, const YAML::Node& node, const ShardInfo& info) {
  if (!node.IsMap()) r.fail("shard " + info.file + ": 'composition' is not a map");
  Composition c;
  int64_t sum = 0;  // checked against the residues as it grows, so that no sum overflows
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const int k = composition_index(key);
    if (k < 0) r.fail("shard " + info.file + ": composition key '" + key + "' is not a residue letter or <unk>");
    const auto count = r.get<int64_t>(node, key, "shards[].composition.");
    if (count < 0 || count > info.residues - sum)
      r.fail("shard " + info.file + ": composition count " + std::to_string(count) + " for '" + key +
             "' does not fit the shard's " + std::to_string(info.residues) + " residues");
    c.counts[static_cast<std::size_t>(k)] += count;
    sum += count;
  }
  if (sum != info.residues)
    r.fail("shard " + info.file + ": the composition counts " + std::to_string(sum) + " tokens, the shard has " +
           std::to_string(info.residues) + " residues");
  return c;
}

}  // namespace

Manifest Manifest::parse(const std::string& text, const std::string& where) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw core::InputError("malformed dataset manifest: " + std::string(e.what()), where);
  }
  Reader r(where);
  if (!root.IsMap()) r.fail("not a YAML map");
  Manifest m;
  m.format = r.get<std::string>(root, "format");
  m.format_version = r.get<int64_t>(root, "format_version");
  m.vocabulary = r.get<std::string>(root, "vocabulary");
  if (root["created_by"]) m.created_by = r.get<std::string>(root, "created_by");
  if (root["on_invalid"]) m.on_invalid = r.get<std::string>(root, "on_invalid");
  if (root["valid_fraction"]) m.valid_fraction = r.get<double>(root, "valid_fraction");
  if (root["sources"] && root["sources"].IsSequence()) {
    for (const auto& s : root["sources"]) {
      SourceInfo info;
      info.path = r.get<std::string>(s, "path", "sources[].");
      if (s["bytes"]) info.bytes = r.get<uint64_t>(s, "bytes", "sources[].");
      if (s["records"]) info.records = r.get<int64_t>(s, "records", "sources[].");
      m.sources.push_back(info);
    }
  }
  if (const YAML::Node c = root["counts"]; c && c.IsMap()) {
    auto count = [&](const char* key, int64_t& value) {
      if (c[key]) value = r.get<int64_t>(c, key, "counts.");
    };
    count("records", m.counts.records);
    count("sequences", m.counts.sequences);
    count("residues", m.counts.residues);
    count("empty_records", m.counts.empty_records);
    count("stripped_stops", m.counts.stripped_stops);
    count("invalid_characters", m.counts.invalid_characters);
    count("records_with_invalid", m.counts.records_with_invalid);
    count("unknown_residues", m.counts.unknown_residues);
    count("skipped_invalid", m.counts.skipped_invalid);
    count("duplicate_ids", m.counts.duplicate_ids);
  }
  const YAML::Node shards = r.need(root, "shards", "");
  if (!shards.IsSequence()) r.fail("'shards' is not a list");
  for (const auto& s : shards) {
    ShardInfo info;
    info.file = r.get<std::string>(s, "file", "shards[].");
    const std::string split = r.get<std::string>(s, "split", "shards[].");
    const auto parsed = splits().parse(split);
    if (!parsed) r.fail("shard " + info.file + " has unknown split '" + split + "'");
    info.split = parsed.value_or(Split::Train);
    info.sequences = r.get<int64_t>(s, "sequences", "shards[].");
    info.residues = r.get<int64_t>(s, "residues", "shards[].");
    info.tokens_crc32 = r.get<uint32_t>(s, "tokens_crc32", "shards[].");
    info.offsets_crc32 = r.get<uint32_t>(s, "offsets_crc32", "shards[].");
    if (s["bytes"]) info.file_bytes = r.get<uint64_t>(s, "bytes", "shards[].");
    if (info.sequences <= 0 || info.residues < info.sequences)
      r.fail("shard " + info.file + " has impossible counts (" + std::to_string(info.sequences) + " sequences, " +
             std::to_string(info.residues) + " residues)");
    if (info.file.find('/') != std::string::npos) r.fail("shard file '" + info.file + "' is not a plain file name");
    if (s["composition"]) info.composition = read_composition(r, s["composition"], info);
    m.shards.push_back(info);
  }
  return m;
}

Manifest Manifest::read(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file))
    throw core::InputError("not a dataset: no " + file.filename().string(), file.parent_path().string(),
                           "create one with `ankh preprocess --input FASTA --output " + file.parent_path().string() +
                               "`; a directory without a manifest is an unfinished preprocess run");
  return parse(core::read_file(file), file.string());
}

}  // namespace ankh::data
