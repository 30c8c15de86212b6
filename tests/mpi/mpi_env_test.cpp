// The MPI bootstrap under a real 2-rank mpirun: rank/size/local rank, and an all-reduce of a
// tensor checked element by element on every rank.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/parallel/mpi_env.h"

using ankh::parallel::MpiSession;

TEST(MpiEnv, RanksAndLocalRanks) {
  MpiSession mpi;  // already initialised by main: must not re-init or finalize
  EXPECT_EQ(mpi.world_size(), 2);
  EXPECT_GE(mpi.rank(), 0);
  EXPECT_LT(mpi.rank(), mpi.world_size());
  // Both ranks run on this host, so local ranks are 0 and 1 too.
  EXPECT_EQ(mpi.local_size(), 2);
  int local_sum = 0;
  const int mine = mpi.local_rank();
  MPI_Allreduce(&mine, &local_sum, 1, MPI_INT, MPI_SUM, mpi.world());
  EXPECT_EQ(local_sum, 0 + 1);
}

TEST(MpiEnv, AllReduceOfATensorIsExactOnEveryRank) {
  MpiSession mpi;
  const int64_t n = 100003;  // not a multiple of anything convenient
  // Rank r holds r * 1000 + i; integers in float32 stay exact at this size.
  auto t = torch::arange(n, torch::kFloat32) + 1000.0f * static_cast<float>(mpi.rank());
  MPI_Allreduce(MPI_IN_PLACE, t.data_ptr<float>(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, mpi.world());
  auto acc = t.accessor<float, 1>();
  int64_t wrong = 0;
  for (int64_t i = 0; i < n; ++i) {
    float expected = 0;
    for (int r = 0; r < mpi.world_size(); ++r) expected += static_cast<float>(i) + 1000.0f * r;
    if (acc[i] != expected) ++wrong;
  }
  EXPECT_EQ(wrong, 0) << "elements differing from the exact sum on rank " << mpi.rank();
}
