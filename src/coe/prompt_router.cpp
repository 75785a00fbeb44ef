#include "coe/prompt_router.h"

#include "coe/rules_router.h"

namespace sy::coe {

Result<std::unique_ptr<PromptRouter>> make_prompt_router(const Composition& composition, const RouterOptions& options) {
  (void)options;
  switch (composition.router.kind) {
    case RouterKind::kRules: return make_rules_router(composition);
    case RouterKind::kEmbedding:
    case RouterKind::kLlm: break;
  }
  return fail(ErrorCode::kUnsupported, "{}: the {} router is not built yet", composition.source.string(),
              router_kind_name(composition.router.kind));
}

}  // namespace sy::coe
