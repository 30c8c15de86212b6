#include "trainer/generation/generator.h"

#include <algorithm>
#include <limits>

#include <torch/torch.h>

#include "data/vocab.h"
#include "trainer/generation/decode_session.h"
#include "trainer/generation/sampling.h"

namespace ankh::generation {

StepPlan plan_step(const DecodeJob& job, int64_t written, int64_t last) {
  StepPlan p;
  if (last == data::kEos) return p;  // kDone
  if (job.max_new > 0) {           // complete: residues, then </s> (forced at max_new)
    if (written < job.max_new) {
      p.kind = StepKind::kFree;
      p.eos_allowed = true;
    } else {
      p.kind = StepKind::kForced;
      p.token = data::kEos;
    }
    return p;
  }
  const int64_t k = job.sentinels;
  if (written > 2 * k) return p;
  if (written == 2 * k) {
    p.kind = StepKind::kForced;
    p.token = data::kEos;
  } else if (written % 2 == 0) {
    p.kind = StepKind::kForced;
    p.token = data::sentinel(written / 2);
  } else {
    p.kind = StepKind::kFree;
  }
  return p;
}

namespace {

struct Encoded {
  torch::Tensor hidden, mask;
};

Encoded encode_jobs(model::T5Model& model, const std::vector<const DecodeJob*>& jobs) {
  std::size_t longest = 0;
  for (const auto* j : jobs) longest = std::max(longest, j->input.size());
  const auto b = static_cast<int64_t>(jobs.size());
  torch::Tensor ids = torch::full({b, static_cast<int64_t>(longest)}, data::kPad, torch::kLong);
  torch::Tensor mask = torch::zeros({b, static_cast<int64_t>(longest)}, torch::kLong);
  auto ia = ids.accessor<int64_t, 2>();
  auto ma = mask.accessor<int64_t, 2>();
  for (int64_t r = 0; r < b; ++r) {
    const auto& in = jobs[static_cast<std::size_t>(r)]->input;
    for (std::size_t i = 0; i < in.size(); ++i) {
      ia[r][static_cast<int64_t>(i)] = in[i];
      ma[r][static_cast<int64_t>(i)] = 1;
    }
  }
  const torch::Device device = model->shared->weight.device();
  Encoded e;
  e.mask = mask.to(device);
  e.hidden = model->encode(ids.to(device), e.mask);
  return e;
}

Decoded to_decoded(const Hypothesis& h) {
  Decoded d;
  d.tokens = h.tokens;
  if (!d.tokens.empty() && d.tokens.back() == data::kEos) d.tokens.pop_back();
  d.sum_logp = h.sum_logp;
  d.residues = h.residues;
  d.rank = h.rank;
  return d;
}

// The scores of `h` extended by `token` with log-probability `logp`.
Expansion extend(const Hypothesis& h, const DecodeJob& job, int64_t row, int64_t token, double logp, bool forced) {
  Expansion e{row, token, h.sum_logp, h.residues, h.rank};
  if (!forced && data::is_residue(token)) {
    e.sum_logp += logp;
    e.residues += 1;
    e.rank += logp;
  } else if (token == data::kEos && job.max_new > 0) {
    e.rank += logp;  // completion: ending here is part of the sequence's probability
  }
  return e;
}

void decode_batch(model::T5Model& model, const std::vector<const DecodeJob*>& jobs, const DecodingOptions& o,
                  bool incremental, std::vector<std::vector<Decoded>>& out) {
  const auto n = static_cast<int64_t>(jobs.size());
  const int64_t width = std::max<int64_t>(o.beam, 1);
  const std::vector<int64_t> residues = residue_ids(o.allow_nonstandard);
  std::vector<int64_t> with_eos(residues);
  with_eos.push_back(data::kEos);

  const Encoded enc = encode_jobs(model, jobs);
  DecodeSession session(model, enc.hidden, enc.mask, torch::arange(n, torch::kLong), incremental);
  std::vector<core::SplitMix64> rng;
  for (const auto* j : jobs) rng.emplace_back(j->stream);
  // Live hypotheses, grouped by job in job order; row r of the session is live[r].
  std::vector<Hypothesis> live(static_cast<std::size_t>(n));
  std::vector<int64_t> job_of(static_cast<std::size_t>(n));
  for (int64_t j = 0; j < n; ++j) job_of[static_cast<std::size_t>(j)] = j;
  std::vector<std::vector<Hypothesis>> finished(static_cast<std::size_t>(n));
  std::vector<int64_t> feed(static_cast<std::size_t>(n), data::kDecoderStart);

  while (!live.empty()) {
    const torch::Tensor logits = session.step(torch::tensor(feed, torch::kLong));
    const int64_t vocab = logits.size(1);
    const float* base = logits.data_ptr<float>();
    std::vector<Hypothesis> next;
    std::vector<int64_t> next_job, keep;
    feed.clear();
    for (std::size_t a = 0; a < live.size();) {
      const int64_t job = job_of[a];
      std::size_t b = a;
      while (b < live.size() && job_of[b] == job) ++b;
      const DecodeJob& dj = *jobs[static_cast<std::size_t>(job)];
      std::vector<Expansion> candidates;
      for (std::size_t r = a; r < b; ++r) {
        const Hypothesis& h = live[r];
        const float* row = base + static_cast<int64_t>(r) * vocab;
        const StepPlan plan = plan_step(dj, static_cast<int64_t>(h.tokens.size()), h.tokens.empty() ? -1 : h.tokens.back());
        if (plan.kind == StepKind::kDone) continue;  // not reached: finished hypotheses leave `live`
        const double lse = log_normaliser(row, vocab);
        if (plan.kind == StepKind::kForced) {
          candidates.push_back(extend(h, dj, static_cast<int64_t>(r), plan.token, row[plan.token] - lse, true));
          continue;
        }
        const auto& allowed = plan.eos_allowed ? with_eos : residues;
        if (o.beam > 0) {
          for (const int64_t t : allowed) candidates.push_back(extend(h, dj, static_cast<int64_t>(r), t, row[t] - lse, false));
        } else {
          const int64_t t = choose_token(row, allowed, o, rng[static_cast<std::size_t>(job)]);
          candidates.push_back(extend(h, dj, static_cast<int64_t>(r), t, row[t] - lse, false));
        }
      }
      auto& done = finished[static_cast<std::size_t>(job)];
      std::vector<Hypothesis> grown;
      const std::size_t keep_start = keep.size();
      double best_live = -std::numeric_limits<double>::infinity();
      for (const Expansion& e : best_expansions(std::move(candidates), width)) {
        Hypothesis h = live[static_cast<std::size_t>(e.row)];
        h.tokens.push_back(e.token);
        h.sum_logp = e.sum_logp;
        h.residues = e.residues;
        h.rank = e.rank;
        if (e.token == data::kEos) {
          done.push_back(std::move(h));
        } else {
          best_live = std::max(best_live, h.rank);
          keep.push_back(e.row);
          grown.push_back(std::move(h));
        }
      }
      sort_finished(done, width);
      if (!grown.empty() && beam_settled(done, best_live, width)) {  // nothing left that could enter the best `width`
        grown.clear();
        keep.resize(keep_start);
      }
      for (auto& h : grown) {
        feed.push_back(h.tokens.back());
        next.push_back(std::move(h));
        next_job.push_back(job);
      }
      a = b;
    }
    live = std::move(next);
    job_of = std::move(next_job);
    if (live.empty()) break;
    session.reorder(torch::tensor(keep, torch::kLong));
  }
  for (int64_t j = 0; j < n; ++j) {
    auto& done = finished[static_cast<std::size_t>(j)];
    sort_finished(done, width);
    auto& result = out[static_cast<std::size_t>(j)];
    for (const auto& h : done) {
      Decoded d = to_decoded(h);
      if (std::find_if(result.begin(), result.end(), [&](const Decoded& x) { return x.tokens == d.tokens; }) == result.end())
        result.push_back(std::move(d));
    }
  }
}

}  // namespace

std::vector<std::vector<Decoded>> decode_jobs(model::T5Model& model, const std::vector<DecodeJob>& jobs,
                                              const DecodingOptions& options, int64_t batch_size, bool incremental) {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<Decoded>> out(jobs.size());
  const auto size = static_cast<std::size_t>(std::max<int64_t>(batch_size, 1));
  for (std::size_t start = 0; start < jobs.size(); start += size) {
    std::vector<const DecodeJob*> batch;
    for (std::size_t j = start; j < std::min(jobs.size(), start + size); ++j) batch.push_back(&jobs[j]);
    std::vector<std::vector<Decoded>> part(batch.size());
    decode_batch(model, batch, options, incremental, part);
    for (std::size_t j = 0; j < batch.size(); ++j) out[start + j] = std::move(part[j]);
  }
  return out;
}

Decoded score_output(model::T5Model& model, const DecodeJob& job, const std::vector<int64_t>& tokens) {
  torch::NoGradGuard no_grad;
  const Encoded enc = encode_jobs(model, {&job});
  std::vector<int64_t> inputs{data::kDecoderStart};
  inputs.insert(inputs.end(), tokens.begin(), tokens.end() - 1);
  const torch::Device device = enc.hidden.device();
  const torch::Tensor ids = torch::tensor(inputs, torch::kLong).unsqueeze(0).to(device);
  const torch::Tensor logits = model->decode(ids, torch::ones_like(ids), enc.hidden, enc.mask)[0].to(torch::kCPU, torch::kFloat).contiguous();
  const int64_t vocab = logits.size(1);
  Hypothesis h;
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    const float* row = logits.data_ptr<float>() + static_cast<int64_t>(t) * vocab;
    const StepPlan plan = plan_step(job, static_cast<int64_t>(t), t == 0 ? -1 : tokens[t - 1]);
    const Expansion e = extend(h, job, 0, tokens[t], row[tokens[t]] - log_normaliser(row, vocab), plan.kind == StepKind::kForced);
    h.tokens.push_back(tokens[t]);
    h.sum_logp = e.sum_logp;
    h.residues = e.residues;
    h.rank = e.rank;
  }
  return to_decoded(h);
}

}  // namespace ankh::generation
