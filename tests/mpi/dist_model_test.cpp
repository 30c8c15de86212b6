// GradSync on the real encoder-decoder under a real 2-rank mpirun, with and without activation
// checkpointing (whose backward recomputes each block and fires the parameters' hooks from the
// recomputation): every rank ends with the sum over ranks of the per-rank gradients, and the
// buckets start during backward from the second step on.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/batch.h"
#include "data/vocab.h"
#include "trainer/parallel/grad_sync.h"
#include "trainer/parallel/mpi_communicator.h"
#include "trainer/parallel/mpi_env.h"
#include "trainer/model/loss.h"
#include "trainer/model/t5_model.h"
#include "tests/support/test_support.h"

using namespace ankh;
using namespace ankh::parallel;

namespace {

MpiCommunicator& comm() {
  static MpiSession session;
  static MpiCommunicator c(session.world(), [] {
    WatchdogOptions o;
    o.timeout_s = 120;
    return o;
  }());
  return c;
}

model::ModelConfig tiny(bool checkpointing) {
  model::ModelConfig c = ankh::testing::tiny_model_config();
  c.activation_checkpointing = checkpointing;
  return c;
}

// Rank r's micro-batch: residues in, sentinel/residue targets out.
data::Batch batch_of(int rank) {
  torch::manual_seed(50 + rank);
  const int64_t rows = 3, enc = 14, dec = 8;
  data::Batch b;
  b.input_ids = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {rows, enc}, torch::kLong);
  b.attention_mask = torch::ones({rows, enc}, torch::kLong);
  auto labels = torch::randint(data::kFirstResidue, data::kFirstResidue + 20, {rows, dec}, torch::kLong);
  labels.select(1, dec - 1).fill_(data::kEos);
  b.labels = labels;
  b.decoder_attention_mask = torch::ones({rows, dec}, torch::kLong);
  b.decoder_input_ids = torch::cat({torch::zeros({rows, 1}, torch::kLong), labels.slice(1, 0, dec - 1)}, 1);
  b.target_tokens = rows * dec;
  return b;
}

model::T5Model make_model(bool checkpointing) {
  model::T5Model m(tiny(checkpointing));
  m->init_weights(7);
  return m;
}

torch::Tensor loss_of(model::T5Model& m, const data::Batch& b) {
  return model::loss_terms(m->forward(b), b.labels).loss_sum;
}

std::map<std::string, torch::Tensor> expected_sum(int world) {
  std::map<std::string, torch::Tensor> sum;
  for (int r = 0; r < world; ++r) {
    auto m = make_model(false);
    loss_of(m, batch_of(r)).backward();
    for (auto& item : m->named_parameters()) {
      auto& s = sum[item.key()];
      s = s.defined() ? s + item.value().grad() : item.value().grad().clone();
    }
  }
  return sum;
}

}  // namespace

TEST(GradSyncOnTheModel, SumsOverRanksWithAndWithoutActivationCheckpointing) {
  auto& c = comm();
  const auto expected = expected_sum(c.size());
  for (bool checkpointing : {false, true}) {
    auto m = make_model(checkpointing);
    m->train();
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (auto& item : m->named_parameters()) named.emplace_back(item.key(), item.value());
    parallel::DistConfig config;
    config.bucket_mb = 0.01;  // ~10 KiB: several buckets
    GradSync sync(named, c, config);
    ASSERT_GT(sync.layout().size(), 3u);
    for (int step = 0; step < 3; ++step) {
      sync.zero_grad();
      sync.begin_micro_batch(true);
      loss_of(m, batch_of(c.rank())).backward();
      const int launched = sync.launched_buckets();
      sync.finish();
      EXPECT_EQ(launched, step == 0 ? 0 : static_cast<int>(sync.layout().size()))
          << "checkpointing " << checkpointing << " step " << step;
      for (auto& [name, p] : named)
        EXPECT_TRUE(torch::allclose(p.grad(), expected.at(name), 1e-5, 1e-6))
            << name << " checkpointing " << checkpointing << " step " << step << " rank " << c.rank();
    }
  }
}
