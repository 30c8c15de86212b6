// The model's public interface in one include: the network, its loss, precision, accounting.
#pragma once

#include "trainer/model/loss.h"
#include "trainer/model/model_config.h"
#include "trainer/model/model_stats.h"
#include "trainer/model/precision.h"
#include "trainer/model/t5_model.h"
