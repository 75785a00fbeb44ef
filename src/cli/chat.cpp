// `switchyard chat -m FILE [--system TEXT] [--chat-template-file F] [-n N] [sampling options] [-t N] [-c N]`
//
// An interactive chat in the terminal: each line read from stdin is a user turn; the conversation is
// rendered with the model's chat template (tokenizer.chat_template, or --chat-template-file) and the reply is streamed
// to stdout, ending at the template's end-of-turn token. Only the part of the conversation the session has not seen is
// evaluated. When the conversation and room for a reply no longer fit the context, its oldest whole turns
// after the system message are dropped (said on stderr) and it is evaluated again. `/reset` forgets the
// conversation (keeping --system). Ctrl-C stops the current reply and the
// chat goes on; Ctrl-C while waiting for input, or end of input (Ctrl-D), leaves.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/routing_options.h"
#include "cli/text_options.h"
#include "cli/validators.h"
#include "core/error.h"
#include "runtime/generator.h"
#include "tokenizer/chat/chat_template.h"

namespace sy::cli {
namespace {

struct ChatOptions {
  RoutingOptions routing;
  std::string model;
  std::string system;
  std::string template_file;
  int32_t n_predict = -1;
  SamplingOptions sampling;
  ContextOptions context;
};

// The signal handler's only view of the chat: lock-free atomics (async-signal-safe).
std::atomic<bool> g_generating{false};
std::atomic<bool> g_interrupt{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the SIGINT handler needs a lock-free flag");

extern "C" void on_chat_sigint(int) {
  if (g_generating.load()) {
    g_interrupt.store(true);
    return;
  }
  static const char kBye[] = "\n";
  [[maybe_unused]] const ssize_t n = write(STDOUT_FILENO, kBye, sizeof kBye - 1);
  _exit(130);
}

// Restores the previous SIGINT handler when the chat ends (RAII for process state).
class SigintGuard {
 public:
  SigintGuard() {
    struct sigaction sa {};
    sa.sa_handler = on_chat_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &previous_);
  }
  ~SigintGuard() { sigaction(SIGINT, &previous_, nullptr); }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

 private:
  struct sigaction previous_ {};
};

std::optional<std::string> token_text(const tok::Vocab& vocab, std::optional<tok::TokenId> id) {
  if (!id) return std::nullopt;
  return vocab.tokens[static_cast<size_t>(*id)];
}

// The conversation rendered with the generation prompt, as token ids.
std::vector<int32_t> conversation_tokens(const chat::ChatTemplate& tmpl, const chat::ChatInput& input,
                                         const tok::Tokenizer& tokenizer) {
  const std::string rendered = value_or_throw(tmpl.render(input));
  // Templates that write the BOS text themselves must not get a second one from the tokenizer.
  const bool has_bos = input.bos_token && rendered.starts_with(*input.bos_token);
  return value_or_throw(tokenizer.encode(rendered, {.add_special = !has_bos, .parse_special = true}));
}

// Tokens kept free for a reply when deciding whether the conversation fits: -n if given, else a quarter of the
// context; never more than half of it.
int64_t reply_room(int32_t n_predict, int64_t n_ctx) {
  const int64_t want = n_predict > 0 ? n_predict : n_ctx / 4;
  return std::max<int64_t>(1, std::min(want, n_ctx / 2));
}

// A context shift at the conversation level: while the conversation does not leave `room` tokens free in a
// context of n_ctx, drop its oldest whole turn after the system message (a user message and the replies up to
// the next user message), then render again. The last message (the user's new turn) is never dropped.
// Returns the turns dropped; `tokens` is the conversation that is left.
int drop_oldest_turns(const chat::ChatTemplate& tmpl, chat::ChatInput& input, const tok::Tokenizer& tokenizer,
                      size_t first_turn, int64_t n_ctx, int64_t room, std::vector<int32_t>& tokens) {
  auto& messages = input.messages;
  int dropped = 0;
  while (static_cast<int64_t>(tokens.size()) + room > n_ctx && messages.size() > first_turn + 1) {
    size_t end = first_turn + 1;
    while (end + 1 < messages.size() && messages[end]["role"] != "user") ++end;
    messages.erase(messages.begin() + static_cast<std::ptrdiff_t>(first_turn),
                   messages.begin() + static_cast<std::ptrdiff_t>(end));
    ++dropped;
    tokens = conversation_tokens(tmpl, input, tokenizer);
  }
  return dropped;
}

void run_chat(const ChatOptions& opt) {
  TextModel tm = load_text_model(opt.model);
  const tok::Vocab& vocab = tm.tokenizer.vocab();
  std::string source;
  if (!opt.template_file.empty()) {
    source = read_text_file(opt.template_file);
  } else if (vocab.chat_template) {
    source = *vocab.chat_template;
  } else {
    throw Exception(
        {ErrorCode::kNotFound,
         fmt::format("'{}' has no chat template (tokenizer.chat_template); give --chat-template-file", opt.model)});
  }
  auto tmpl = value_or_throw(chat::ChatTemplate::parse(std::move(source)));

  chat::ChatInput input;
  input.add_generation_prompt = true;
  input.bos_token = token_text(vocab, vocab.special.bos);
  input.eos_token = token_text(vocab, vocab.special.eos);
  auto clear = [&] {
    input.messages = nlohmann::ordered_json::array();
    if (!opt.system.empty()) input.messages.push_back({{"role", "system"}, {"content", opt.system}});
  };
  clear();

  runtime::Session session(*tm.model, session_options(opt.context, *tm.model));
  value_or_throw(apply_routing_options(session, opt.routing));
  runtime::Generator generator(session, tm.tokenizer, sampling_params(opt.sampling));
  const runtime::GenerateOptions gen{
      .n_predict = opt.n_predict, .stop_tokens = runtime::end_of_generation_tokens(vocab), .interrupt = &g_interrupt};
  const bool interactive = isatty(STDIN_FILENO) != 0;
  SigintGuard sigint;
  if (interactive) fmt::print(stderr, "chat: /reset forgets the conversation, Ctrl-C stops a reply, Ctrl-D leaves\n");

  std::string line;
  while (true) {
    if (interactive) {
      fmt::print("> ");
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line == "/reset") {
      clear();
      session.reset();
      fmt::print(stderr, "(conversation reset)\n");
      continue;
    }
    input.messages.push_back({{"role", "user"}, {"content", line}});
    std::vector<int32_t> tokens;
    try {
      tokens = conversation_tokens(tmpl, input, tm.tokenizer);
    } catch (const Exception&) {
      input.messages.erase(input.messages.end() - 1);
      throw;
    }
    const int64_t n_ctx = session.n_ctx();
    const size_t first_turn = opt.system.empty() ? 0 : 1;
    if (const int n =
            drop_oldest_turns(tmpl, input, tm.tokenizer, first_turn, n_ctx, reply_room(opt.n_predict, n_ctx), tokens);
        n > 0)
      fmt::print(stderr, "chat: context full, dropped the {} oldest turn{}\n", n, n == 1 ? "" : "s");
    if (static_cast<int64_t>(tokens.size()) > n_ctx) {
      input.messages.erase(input.messages.end() - 1);
      fmt::print(stderr,
                 "chat: {} this message take {} tokens, more than the context of {}; not sent (a shorter "
                 "message{} or a larger -c/--ctx-size)\n",
                 opt.system.empty() ? "the template and" : "the system message and", tokens.size(), n_ctx,
                 opt.system.empty() ? "" : " or --system");
      continue;
    }

    std::string reply;
    g_interrupt.store(false);
    g_generating.store(true);
    auto stats = generator.generate(tokens, gen, [&](std::string_view piece) {
      reply += piece;
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    });
    g_generating.store(false);
    if (!stats) {
      input.messages.erase(input.messages.end() - 1);
      fmt::print(stderr, "\nerror: {} (/reset starts over)\n", stats.error().message);
      continue;
    }
    fmt::print("\n");
    if (stats->reason == runtime::StopReason::kInterrupted) fmt::print(stderr, "(reply stopped)\n");
    // The partial reply is kept; the next turn makes room by dropping the oldest turns.
    if (stats->reason == runtime::StopReason::kContextFull) fmt::print(stderr, "(reply cut: the context is full)\n");
    // A stopped reply stays in the conversation as far as it went: that is what the user saw.
    input.messages.push_back({{"role", "assistant"}, {"content", reply}});
  }
  std::fflush(stdout);
}

void register_chat(CLI::App& app) {
  auto opt = std::make_shared<ChatOptions>();
  auto* cmd = app.add_subcommand("chat", "Chat with a model in the terminal, using its chat template");
  cmd->add_option("-m,--model", opt->model, "GGUF model file with a chat template (default: the bundled model)");
  cmd->add_option("--system", opt->system, "System message that starts the conversation");
  cmd->add_option("--chat-template-file", opt->template_file, "Jinja chat template to use instead of the model's");
  cmd->add_option("-n,--n-predict", opt->n_predict, "Tokens per reply at most (-1 = until end of turn)")
      ->check(in_range(-1, 1 << 24));
  add_sampling_options(cmd, opt->sampling);
  add_context_options(cmd, opt->context);
  add_routing_options(cmd, opt->routing);
  cmd->callback([opt] { run_chat(*opt); });
}

}  // namespace

SY_COMMAND(chat, register_chat);

}  // namespace sy::cli
