#include "trainer/model/sample_dropout.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "core/hash.h"

namespace ankh::model {

// The hash, on 32-bit words (docs/model.md, "Dropout"). m is Wellons' lowbias32 and e its core
// without the outer xorshifts, both bijections of [0, 2^32):
//   m(x) = x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16
//   e(x) = x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b
//   S   = m(site ^ 0x9E3779B9)                               per site (host)
//   h   = m(m(key_lo ^ S) ^ key_hi)                          per (sample, site)       [B]
//   c_t = m((coordinate + t · 0x9E3779B9) mod 2^32)          per coordinate of axis t
//   h   = m(h ^ c_t)  for each axis t = 1 .. n−2             per row                  [B, ...]
//   u   = e(h ^ c_{n−1})                                     per element (u = h for [B])
//   drop iff u < round(p · 2^32)
// Each axis is absorbed on its own, so an element's u depends on its coordinates and never on
// the tensor's sizes: a sample padded longer keeps its masks on its real positions. Per element
// only e runs (h and c are already well mixed, and the comparison reads the high bits, which the
// final xorshift of m would not change): six integer passes over the tensor.
//
// In tensors the words live in int64 and every step is overflow-free: values stay in [0, 2^32);
// x · 0x7feb352d < 2^32 · 2^31 = 2^63; the second multiplier 0x846ca68b exceeds 2^31, so it is
// applied as its negative residue −0x7b935975 (≡ 0x846ca68b mod 2^32), whose product lies in
// (−2^63, 0]; `& 0xFFFFFFFF` of that two's-complement value is the product mod 2^32.

namespace {

constexpr int64_t kMask32 = 0xFFFFFFFFLL;
constexpr uint32_t kMul1 = 0x7feb352dU;
constexpr uint32_t kMul2 = 0x846ca68bU;
constexpr int64_t kMul2Negative = -static_cast<int64_t>(0x100000000ULL - kMul2);  // −0x7b935975
constexpr uint32_t kGolden = 0x9E3779B9U;
static_assert(kMul2Negative == -0x7b935975LL, "the negative residue of the second multiplier");

constexpr uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= kMul1;
  x ^= x >> 15;
  x *= kMul2;
  x ^= x >> 16;
  return x;
}

constexpr uint32_t element32(uint32_t x) {
  x *= kMul1;
  x ^= x >> 15;
  x *= kMul2;
  return x;
}

// mix32 in place on an int64 tensor of values in [0, 2^32); `tmp` is scratch of the same shape.
void mix32_(torch::Tensor& x, torch::Tensor& tmp) {
  at::bitwise_right_shift_out(tmp, x, 16);
  x.bitwise_xor_(tmp);
  x.mul_(static_cast<int64_t>(kMul1)).bitwise_and_(kMask32);
  at::bitwise_right_shift_out(tmp, x, 15);
  x.bitwise_xor_(tmp);
  x.mul_(kMul2Negative).bitwise_and_(kMask32);
  at::bitwise_right_shift_out(tmp, x, 16);
  x.bitwise_xor_(tmp);
}

void mix32_(torch::Tensor& x) {
  torch::Tensor tmp = torch::empty_like(x);
  mix32_(x, tmp);
}

// element32 in place, likewise.
void element32_(torch::Tensor& x) {
  x.mul_(static_cast<int64_t>(kMul1)).bitwise_and_(kMask32);
  x.bitwise_xor_(at::bitwise_right_shift(x, 15));
  x.mul_(kMul2Negative).bitwise_and_(kMask32);
}

uint32_t axis_salt(int64_t axis) { return static_cast<uint32_t>(static_cast<uint64_t>(axis) * kGolden); }

uint32_t site_word(uint32_t site) { return mix32(site ^ kGolden); }

// c_t for coordinates 0 .. n−1 of axis t: int64 [n] on `device`.
torch::Tensor coordinate_words(int64_t n, int64_t axis, const torch::Device& device) {
  torch::Tensor c = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(device));
  c.add_(static_cast<int64_t>(axis_salt(axis))).bitwise_and_(kMask32);
  mix32_(c);
  return c;
}

// The drop threshold: drop iff u < threshold, so P(drop) = threshold / 2^32 = p to within 2^-33.
int64_t drop_threshold(double p) { return std::llround(p * 4294967296.0); }

void check_rate(double p) {
  if (!(p >= 0.0 && p < 1.0))
    throw core::Error("dropout rate " + std::to_string(p) + " outside [0, 1)", "model::sample_dropout");
}

// u for every element of a tensor of `sizes` (int64, values in [0, 2^32)).
torch::Tensor element_words(at::IntArrayRef sizes, const DropoutKeys& keys, uint32_t site) {
  if (!keys.defined()) throw core::Error("per-sample dropout without keys", "model::sample_dropout");
  if (sizes.empty() || sizes[0] != keys.size())
    throw core::Error("per-sample dropout: " + std::to_string(keys.size()) + " keys for a tensor of " +
                          std::to_string(sizes.empty() ? 0 : sizes[0]) + " rows",
                      "model::sample_dropout");
  const torch::Device device = keys.low().device();
  torch::Tensor h = keys.low().bitwise_xor(static_cast<int64_t>(site_word(site)));
  mix32_(h);
  h.bitwise_xor_(keys.high());
  mix32_(h);
  const auto n = static_cast<int64_t>(sizes.size());
  for (int64_t axis = 1; axis < n; ++axis) {
    // [B, s1, …, s(axis−1)] ⊕ [s_axis] → [B, s1, …, s_axis]: one more axis absorbed.
    h = h.unsqueeze(-1).bitwise_xor(coordinate_words(sizes[static_cast<size_t>(axis)], axis, device));
    if (axis + 1 < n)
      mix32_(h);
    else
      element32_(h);
  }
  return h;
}

}  // namespace

uint32_t dropout_site(bool decoder, int64_t layer, DropoutPoint point) {
  if (layer < 0 || layer >= (int64_t{1} << 20))
    throw core::Error("dropout site of layer " + std::to_string(layer) + " out of range", "model::dropout_site");
  return (decoder ? 1U << 24 : 0U) | static_cast<uint32_t>(layer) << 4 | static_cast<uint32_t>(point);
}

uint64_t sample_dropout_key(uint64_t seed, int64_t step, int64_t position) {
  return core::hash_words(seed, static_cast<uint64_t>(step), static_cast<uint64_t>(position));
}

DropoutKeys::DropoutKeys(const std::vector<uint64_t>& keys, const torch::Device& device) {
  std::vector<int64_t> words(keys.size() * 2);
  for (size_t i = 0; i < keys.size(); ++i) {
    words[2 * i] = static_cast<int64_t>(keys[i] & 0xFFFFFFFFULL);
    words[2 * i + 1] = static_cast<int64_t>(keys[i] >> 32);
  }
  torch::Tensor host = torch::tensor(words, torch::kLong).view({static_cast<int64_t>(keys.size()), 2});
  // From pinned memory the copy is asynchronous (a pageable one may wait for the stream); the
  // caching host allocator keeps the pinned block until the copy has run.
  if (device.is_cuda()) host = host.pin_memory();
  torch::Tensor on_device = host.to(device, /*non_blocking=*/true);
  low_ = on_device.select(1, 0);
  high_ = on_device.select(1, 1);
}

DropoutKeys DropoutKeys::for_samples(uint64_t seed, int64_t step, const std::vector<int64_t>& positions, int64_t rows,
                                     const torch::Device& device) {
  if (!positions.empty() && static_cast<int64_t>(positions.size()) != rows)
    throw core::Error(std::to_string(positions.size()) + " global positions for a micro-batch of " +
                          std::to_string(rows) + " samples",
                      "model::DropoutKeys", "a Batch's global_positions has one entry per row, or none");
  std::vector<uint64_t> keys(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i)
    keys[static_cast<size_t>(i)] =
        sample_dropout_key(seed, step, positions.empty() ? i : positions[static_cast<size_t>(i)]);
  return DropoutKeys(keys, device);
}

torch::Tensor sample_dropout_keep(at::IntArrayRef sizes, const DropoutKeys& keys, uint32_t site, double p) {
  check_rate(p);
  return element_words(sizes, keys, site).ge(drop_threshold(p));
}

torch::Tensor sample_dropout(const torch::Tensor& x, const DropoutKeys& keys, uint32_t site, double p) {
  check_rate(p);
  if (p == 0.0) return x;
  if (keys.low().device() != x.device())
    throw core::Error("per-sample dropout keys on " + keys.low().device().str() + " for a tensor on " +
                          x.device().str(),
                      "model::sample_dropout");
  const torch::Tensor drop = element_words(x.sizes(), keys, site).lt(drop_threshold(p));
  return x.mul(1.0 / (1.0 - p)).masked_fill_(drop, 0);
}

bool sample_dropout_drops(uint64_t key, uint32_t site, const std::vector<int64_t>& coords, double p) {
  check_rate(p);
  uint32_t h = mix32(static_cast<uint32_t>(key) ^ site_word(site));
  h = mix32(h ^ static_cast<uint32_t>(key >> 32));
  for (size_t i = 0; i < coords.size(); ++i) {
    const auto axis = static_cast<int64_t>(i) + 1;
    const uint32_t c = mix32(static_cast<uint32_t>(static_cast<uint64_t>(coords[i]) + axis_salt(axis)));
    h = i + 1 < coords.size() ? mix32(h ^ c) : element32(h ^ c);
  }
  return static_cast<int64_t>(h) < drop_threshold(p);
}

torch::Tensor DropoutSite::apply(const torch::Tensor& x, const DropoutKeys& keys, bool training) const {
  if (!active(training)) return x;
  if (!keys.defined())
    throw core::Error("dropout in training mode needs per-sample dropout keys", "model::DropoutSite",
                      "call T5Model::forward (or encode/decode), which derives them from (seed, step, sample)");
  return sample_dropout(x, keys, id, p);
}

}  // namespace ankh::model
