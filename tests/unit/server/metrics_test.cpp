#include "server/core/metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace sy::server {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

TEST(Metrics, RendersPrometheusText) {
  Metrics m({0, 4});  // a dense block, then an MoE block of 4 experts
  m.count_request("/v1/completions", 200);
  m.count_request("/v1/completions", 200);
  m.count_request("other", 404);
  m.count_finish("stop");
  m.add_prompt_tokens(10, 3);
  m.add_generated_tokens(7);
  m.observe_ttft(0.003);
  m.observe_inter_token(0.02);
  m.observe_inter_token(100);
  const int32_t ids[] = {1, 3, -1, 3, 9};  // -1: padding; 9: not an expert of the layer (ignored)
  m.add_expert_load(1, ids, 5);
  m.add_expert_load(7, ids, 5);  // not a layer: ignored
  m.set_scheduler(2, 1, 4);
  const std::string t = m.render();
  EXPECT_TRUE(has_line(t, R"(switchyard_requests_total{endpoint="/v1/completions",status="200"} 2)")) << t;
  EXPECT_TRUE(has_line(t, R"(switchyard_requests_total{endpoint="other",status="404"} 1)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_generations_total{reason="stop"} 1)"));
  EXPECT_TRUE(has_line(t, "switchyard_prompt_tokens_total 10"));
  EXPECT_TRUE(has_line(t, "switchyard_prompt_tokens_reused_total 3"));
  EXPECT_TRUE(has_line(t, "switchyard_generated_tokens_total 7"));
  EXPECT_TRUE(has_line(t, "switchyard_queue_depth 2"));
  EXPECT_TRUE(has_line(t, "switchyard_active_sequences 1"));
  EXPECT_TRUE(has_line(t, "switchyard_sequence_slots 4"));
  EXPECT_TRUE(has_line(t, R"(switchyard_time_to_first_token_seconds_bucket{le="0.0025"} 0)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_time_to_first_token_seconds_bucket{le="0.005"} 1)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_inter_token_latency_seconds_bucket{le="30"} 1)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_inter_token_latency_seconds_bucket{le="+Inf"} 2)"));
  EXPECT_TRUE(has_line(t, "switchyard_inter_token_latency_seconds_count 2"));
  EXPECT_TRUE(has_line(t, R"(switchyard_expert_load_total{layer="1",expert="1"} 1)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_expert_load_total{layer="1",expert="3"} 2)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_expert_load_total{layer="1",expert="0"} 0)"));
  EXPECT_EQ(t.find(R"(layer="0")"), std::string::npos);  // a dense block has no experts
  EXPECT_TRUE(has_line(t, "# TYPE switchyard_time_to_first_token_seconds histogram"));
}

TEST(Metrics, ACompositionLabelsWhatIsPerModel) {
  Metrics m({{.name = "code", .n_expert = {4}}, {.name = "chat", .n_expert = {0, 2}}}, 1000);
  const int32_t ids[] = {1, 1};
  m.add_expert_load(0, 0, ids, 2);
  m.add_expert_load(1, 1, ids, 1);
  m.set_scheduler(0, 1, 2, 4);
  m.set_scheduler(1, 2, 1, 4);
  m.count_model_request(0, true);
  m.count_model_request(0, false);
  m.count_model_request(1, true);
  m.observe_model_load(0, 0.2, 600);
  m.observe_model_load(1, 0.3, 300);
  m.count_model_unload(0, 600);
  m.count_model_load_failure(1);
  const std::string t = m.render();
  EXPECT_TRUE(has_line(t, R"(switchyard_expert_load_total{model="code",layer="0",expert="1"} 2)")) << t;
  EXPECT_TRUE(has_line(t, R"(switchyard_expert_load_total{model="chat",layer="1",expert="1"} 1)"));
  EXPECT_TRUE(has_line(t, "switchyard_queue_depth 3"));  // summed over the models
  EXPECT_TRUE(has_line(t, "switchyard_active_sequences 3"));
  EXPECT_TRUE(has_line(t, "switchyard_sequence_slots 8"));
  EXPECT_TRUE(has_line(t, R"(switchyard_model_requests_total{model="code",via="routed"} 1)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_model_requests_total{model="code",via="named"} 1)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_model_requests_total{model="chat",via="routed"} 1)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_model_loads_total{model="code"} 1)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_model_unloads_total{model="code"} 1)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_model_load_failures_total{model="chat"} 1)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_model_loaded{model="code"} 0)"));
  EXPECT_TRUE(has_line(t, R"(switchyard_model_loaded{model="chat"} 1)"));
  EXPECT_TRUE(has_line(t, "switchyard_model_load_seconds_count 2"));
  EXPECT_TRUE(has_line(t, "switchyard_model_loaded_bytes 300"));
  EXPECT_TRUE(has_line(t, "switchyard_model_budget_bytes 1000"));
}

TEST(Metrics, OneModelHasNoCompositionSeries) {
  Metrics m({2});
  const std::string t = m.render();
  EXPECT_EQ(t.find("switchyard_model_"), std::string::npos) << t;
  EXPECT_EQ(t.find("model=\""), std::string::npos) << t;
}

}  // namespace
}  // namespace sy::server
