// elementwise_body.h built with FMA (see there).
#include <cstdint>

#define SY_BODY_NS avx2
#include "kernels/ops/elementwise_body.h"
