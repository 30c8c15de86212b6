// The labels of a classification probe: from a TSV (`id<TAB>label`), or derived from GO
// annotations, a protein being in a class when exactly one of the classes' terms is among its
// propagated terms once class terms that are ancestors of another one it has are set aside
// (mitochondrion is part_of cytoplasm: a mitochondrial protein is in the mitochondrion class).
// One localisation, not several: proteins in none or in two unrelated classes are left out.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "trainer/probe/probe_task.h"

namespace ankh::probe {

struct ClassLabels {
  std::vector<std::string> names;                  // class id -> name, sorted by name
  std::unordered_map<std::string, int64_t> label;  // protein id -> class id
  int64_t ambiguous = 0;                           // GO: proteins in two unrelated classes (left out)
};

// InputError naming file:line for a TSV line without two fields or an id given twice with
// different labels; for GO classes, InputError naming the task when a class term is not in the
// graph.
ClassLabels read_class_labels(const ProbeTask& task);

}  // namespace ankh::probe
