#include "trainer/metrics/records.h"

#include "core/error.h"

namespace ankh::metrics {

namespace {

using nlohmann::json;

// Reads and writes the fields of one record type, in one list per type, so that the JSON names
// live in one place: `io(name, field)` for every field.
template <class Io>
void fields(StartRecord& r, Io&& io) {
  io("step", r.step), io("world_size", r.world_size), io("device", r.device), io("parameters", r.parameters);
  io("peak_flops", r.peak_flops), io("peak_source", r.peak_source), io("matmul_flops", r.matmul_flops);
  io("unigram_entropy", r.unigram_entropy);
}
template <class Io>
void fields(TrainRecord& r, Io&& io) {
  io("step", r.step), io("epoch", r.epoch), io("tokens", r.tokens), io("loss", r.loss), io("residue_loss", r.residue_loss);
  io("accuracy", r.accuracy), io("lr", r.lr), io("grad_norm", r.grad_norm), io("skipped_steps", r.skipped_steps);
  io("tokens_per_s", r.tokens_per_s), io("step_time_s", r.step_time_s), io("data_wait_s", r.data_wait_s);
  io("comm_wait_s", r.comm_wait_s), io("mfu", r.mfu), io("memory_bytes", r.memory_bytes), io("tasks", r.tasks);
}
template <class Io>
void fields(ValidRecord& r, Io&& io) {
  io("step", r.step), io("tokens", r.tokens), io("loss", r.loss), io("residue_loss", r.residue_loss);
  io("accuracy", r.accuracy), io("perplexity", r.perplexity), io("target_tokens", r.target_tokens);
  io("residue_tokens", r.residue_tokens), io("unigram_entropy", r.unigram_entropy), io("tasks", r.tasks);
}
template <class Io>
void fields(TaskRecord& r, Io&& io) {
  io("kind", r.kind), io("loss", r.loss), io("residue_loss", r.residue_loss), io("accuracy", r.accuracy);
  io("target_tokens", r.target_tokens), io("residue_tokens", r.residue_tokens);
}
template <class Io>
void fields(CheckpointRecord& r, Io&& io) {
  io("step", r.step), io("path", r.path), io("bytes", r.bytes), io("stall_s", r.stall_s), io("write_s", r.write_s);
  io("commit_s", r.commit_s);
}
template <class Io>
void fields(EndRecord& r, Io&& io) {
  io("step", r.step), io("tokens", r.tokens), io("reason", r.reason), io("best_valid_loss", r.best_valid_loss);
  io("train_seconds", r.train_seconds);
}

template <class Io>
void fields(ProbeRecord& r, Io&& io) {
  io("step", r.step), io("tokens", r.tokens), io("task", r.task), io("fmax", r.fmax), io("coverage", r.coverage);
  io("accuracy", r.accuracy), io("macro_f1", r.macro_f1), io("embed_s", r.embed_s), io("fit_s", r.fit_s);
}

const char* event_name(const Record& r) {
  static const char* names[] = {"start", "train", "valid", "checkpoint", "end", "probe"};
  return names[r.index()];
}

struct Writer {
  json& out;
  void operator()(const char* key, const std::string& v) { out[key] = v; }
  void operator()(const char* key, int64_t v) { out[key] = v; }
  void operator()(const char* key, double v) { out[key] = v; }  // NaN is written as null
  void operator()(const char* key, EndReason v) { out[key] = end_reasons().name(v); }
  void operator()(const char* key, const std::vector<TaskRecord>& tasks) {
    if (tasks.empty()) return;  // a single objective: no key, so its lines stay as they were
    json& list = out[key] = json::array();
    for (TaskRecord t : tasks) {
      json one = json::object();
      fields(t, Writer{one});
      list.push_back(std::move(one));
    }
  }
};

struct Reader {
  const json& in;
  const std::string& where;
  std::string prefix;  // where `in` sits in the record: "" or "tasks[1]."
  const json* find(const char* key) const {
    const auto it = in.find(key);
    return it == in.end() ? nullptr : &*it;  // a missing field keeps its default (older runs)
  }
  [[noreturn]] void bad(const char* key, const char* expected) const {
    throw core::InputError("field '" + prefix + key + "' is not " + expected, where);
  }
  void operator()(const char* key, std::string& v) const {
    if (const json* j = find(key)) j->is_string() ? void(v = j->get<std::string>()) : bad(key, "a string");
  }
  void operator()(const char* key, int64_t& v) const {
    if (const json* j = find(key)) j->is_number_integer() ? void(v = j->get<int64_t>()) : bad(key, "an integer");
  }
  void operator()(const char* key, double& v) const {
    const json* j = find(key);
    if (!j) return;
    if (j->is_null()) v = kNaN;  // how JSON carries a NaN
    else if (j->is_number()) v = j->get<double>();
    else bad(key, "a number");
  }
  void operator()(const char* key, EndReason& v) const {
    const json* j = find(key);
    if (!j) return;
    const auto parsed = j->is_string() ? end_reasons().parse(j->get<std::string>()) : std::nullopt;
    if (!parsed) bad(key, "max_steps, signal or exit_at_step");
    v = *parsed;
  }
  void operator()(const char* key, std::vector<TaskRecord>& v) const {
    const json* j = find(key);
    if (!j) return;
    if (!j->is_array()) bad(key, "a list of task objects");
    v.clear();
    for (std::size_t i = 0; i < j->size(); ++i) {
      const json& item = (*j)[i];
      const std::string at = prefix + key + "[" + std::to_string(i) + "]";
      if (!item.is_object()) throw core::InputError("field '" + at + "' is not a task object", where);
      TaskRecord t;
      fields(t, Reader{item, where, at + "."});
      v.push_back(std::move(t));
    }
  }
};

template <class R>
Record read_as(const json& in, const std::string& where) {
  R r;
  fields(r, Reader{in, where, ""});
  return r;
}

}  // namespace

const core::Choices<EndReason>& end_reasons() {
  static const core::Choices<EndReason> table{
      {EndReason::MaxSteps, "max_steps"}, {EndReason::Signal, "signal"}, {EndReason::ExitAtStep, "exit_at_step"}};
  return table;
}

json to_json(const Record& record) {
  json out = json::object();
  out["event"] = event_name(record);
  std::visit([&](auto r) { fields(r, Writer{out}); }, record);
  return out;
}

std::optional<Record> from_json(const json& in, const std::string& where) {
  if (!in.is_object()) throw core::InputError("not a JSON object", where);
  const auto event = in.find("event");
  if (event == in.end() || !event->is_string()) throw core::InputError("no \"event\" name", where);
  const std::string name = event->get<std::string>();
  if (name == "start") return read_as<StartRecord>(in, where);
  if (name == "train") return read_as<TrainRecord>(in, where);
  if (name == "valid") return read_as<ValidRecord>(in, where);
  if (name == "checkpoint") return read_as<CheckpointRecord>(in, where);
  if (name == "end") return read_as<EndRecord>(in, where);
  if (name == "probe") return read_as<ProbeRecord>(in, where);
  return std::nullopt;  // an event of a newer ankh: skipped by this one
}

int64_t step_of(const Record& record) {
  return std::visit([](const auto& r) { return r.step; }, record);
}

}  // namespace ankh::metrics
