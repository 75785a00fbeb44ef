#include "coe/prompt_router.h"

#include "coe/embedding_router.h"
#include "coe/llm_router.h"
#include "coe/rules_router.h"

namespace sy::coe {

Result<std::unique_ptr<PromptRouter>> make_prompt_router(const Composition& composition, const RouterOptions& options) {
  switch (composition.router.kind) {
    case RouterKind::kRules: return make_rules_router(composition);
    case RouterKind::kEmbedding: return make_embedding_router(composition, options);
    case RouterKind::kLlm: return make_llm_router(composition, options);
  }
  return fail(ErrorCode::kUnsupported, "{}: unknown router kind", composition.source.string());
}

}  // namespace sy::coe
