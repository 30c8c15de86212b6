// Small string utilities shared by config validation, the CLI and the data tools.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ankh::core {

std::string trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
std::string to_lower(std::string_view s);
std::string join(const std::vector<std::string>& parts, std::string_view sep);

// Edit distance (insertions, deletions, substitutions, adjacent transpositions count 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a plausible typo.
std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates);

// Strict numeric parsing: the whole string must be consumed.
std::optional<int64_t> parse_int(std::string_view s);
std::optional<double> parse_double(std::string_view s);
std::optional<bool> parse_bool(std::string_view s);

// Shortest text that parses back to exactly the same double.
std::string format_double(double v);
// 1536 -> "1.5 KiB", 3.2e9 -> "3.0 GiB".
std::string format_bytes(double bytes);
// 1234567 -> "1,234,567".
std::string format_count(int64_t n);
// 3.2e9 -> "3.20 G" (SI prefixes).
std::string format_si(double v, int precision = 2);
// 3725 s -> "1:02:05".
std::string format_duration(double seconds);
// A tensor shape: {2, 3} -> "[2, 3]".
std::string shape_text(const std::vector<int64_t>& shape);

}  // namespace ankh::core
