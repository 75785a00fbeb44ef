// attention_body.h built with FMA (see there).
#define SY_BODY_NS avx2
#include "kernels/ops/attention_body.h"
