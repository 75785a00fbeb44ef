#include "server/http/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <pthread.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <thread>

#include "server/core/metrics.h"
#include "server/core/model_choice.h"
#include "server/core/model_pool.h"
#include "server/core/prepare.h"
#include "server/http/connection.h"
#include "server/http/openai_json.h"
#include "server/http/page.h"

namespace sy::server {
namespace {

using nlohmann::json;

// How often a waiting handler looks at its job and its connection.
constexpr auto kPoll = std::chrono::milliseconds(20);

// Counts responses still being produced (a stream outlives its handler), so shutdown can wait for them.
class InFlight {
 public:
  void enter() {
    std::lock_guard lock(mu_);
    ++n_;
  }
  void leave() {
    std::lock_guard lock(mu_);
    if (--n_ == 0) cv_.notify_all();
  }
  bool wait_zero(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return n_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t n_ = 0;
};

// One streamed reply: takes the job's tokens and writes them as server-sent events.
struct Stream {
  ModelLease lease;  // the model stays loaded until the stream ends
  std::shared_ptr<Job> job;
  GenerationRequest request;
  ReplyHeader header;
  const tok::Tokenizer* tokenizer = nullptr;
  std::string echo_text;
  bool first = true;
  bool done = false;

  static bool send(httplib::DataSink& sink, const json& value) {
    const std::string line = "data: " + dump(value) + "\n\n";
    return sink.write(line.data(), line.size());
  }

  // Called by cpp-httplib until it returns false or calls sink.done(); each call waits at most kPoll.
  bool pump(httplib::DataSink& sink) {
    if (done) return false;
    const bool chat = request.kind == GenerationRequest::Kind::kChat;
    std::vector<GeneratedToken> tokens;
    const bool finished = job->take(tokens, kPoll);
    const JobResult result = finished ? job->result() : JobResult{};
    // Tokens go out as they come (the first chunk carries the role, or the echoed prompt).
    if (first || !tokens.empty()) {
      const json chunk = chat ? chat_chunk_json(header, request, *tokenizer, tokens, first, nullptr)
                              : text_chunk_json(header, request, *tokenizer, echo_text, tokens, nullptr);
      if (!send(sink, chunk)) return fail();
      first = false;
      echo_text.clear();
      header.composition = nullptr;  // the composition's choice goes with the first chunk
    }
    if (!finished) return true;
    if (result.reason == FinishReason::kError || result.reason == FinishReason::kShutdown ||
        result.reason == FinishReason::kCancelled) {
      // An error event, which OpenAI's clients raise, instead of a finish reason.
      const ApiError e{.status = 500,
                       .type = "server_error",
                       .message = result.reason == FinishReason::kError ? "generation failed: " + result.error
                                                                        : "the server is shutting down",
                       .param = {},
                       .code = {}};
      if (!send(sink, error_json(e))) return fail();
    } else {
      const json last = chat ? chat_chunk_json(header, request, *tokenizer, {}, false, &result)
                             : text_chunk_json(header, request, *tokenizer, "", {}, &result);
      if (!send(sink, last)) return fail();
      if (request.include_usage && !send(sink, usage_chunk_json(header, chat, result))) return fail();
    }
    finish(sink);
    return true;
  }

  void finish(httplib::DataSink& sink) {
    static constexpr char kDone[] = "data: [DONE]\n\n";
    sink.write(kDone, sizeof kDone - 1);
    sink.done();
    done = true;
  }

  bool fail() {
    job->cancel();
    return false;
  }
};

// cpp-httplib 0.11 as Debian builds it listens with a backlog of 5: a burst of connections overflows it and the
// kernel drops SYNs, which clients retry after 1, 2, 4 … seconds. listen() again on the bound socket widens it.
class HttplibServer : public httplib::Server {
 public:
  void widen_backlog() {
    const auto sock = svr_sock_.load();
    if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);
  }
};

// One code path for one model (serve -m: a pool of one borrowed model, preloaded) and for a composition (a pool
// of its models, loaded on demand, and its router).
class Server {
 public:
  Server(std::vector<PoolModelInfo> models, const ModelPoolOptions& pool_options, const ServeOptions& options,
         const coe::Composition* composition, coe::PromptRouter* router)
      : options_(options),
        composition_(composition),
        router_(router),
        metrics_(composition != nullptr ? Metrics(metric_rows(models), pool_options.budget_bytes)
                                        : Metrics(models.front().n_expert)),
        pool_(std::move(models), pool_options, &metrics_) {
    routes();
  }

  ModelPool& pool() { return pool_; }

  Status bind() {
    if (options_.port == 0) {
      port_ = http_.bind_to_any_port(options_.host);
      if (port_ <= 0) return fail(ErrorCode::kIo, "cannot listen on {} (any port)", options_.host);
    } else {
      if (!http_.bind_to_port(options_.host, options_.port))
        return fail(ErrorCode::kIo, "cannot listen on {}:{} (in use, or not an address of this machine)", options_.host,
                    options_.port);
      port_ = options_.port;
    }
    http_.widen_backlog();
    return {};
  }
  int port() const { return port_; }

  // Serves until a stop signal; then drains: new requests get 503, running ones finish (or end after
  // drain_seconds), and the listener closes.
  // `stop_signals` are blocked in every thread of the process (serve() blocks them before starting any); the
  // watcher takes them with sigtimedwait, so no handler runs and no accept() is interrupted.
  void run(const sigset_t& stop_signals) {
    std::thread watcher([this, stop_signals] {
      const timespec poll{0, 50'000'000};
      while (!listen_done_.load() && sigtimedwait(&stop_signals, nullptr, &poll) < 0) {
      }
      // A second signal ends the process at once: this thread now takes it, with the default action.
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      sigaction(SIGTERM, &dfl, nullptr);
      sigaction(SIGINT, &dfl, nullptr);
      pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
      {
        std::lock_guard lock(listen_mu_);
        draining_.store(true);
      }
      pool_.close();
      const auto grace = std::chrono::milliseconds(static_cast<int64_t>(options_.drain_seconds * 1000));
      if (!pool_.wait_idle(grace)) fmt::print(stderr, "serve: drain time over; ending the requests still running\n");
      pool_.stop();
      in_flight_.wait_zero(std::chrono::seconds(5));
      // stop() only stops a listener that is running: repeat until the listening loop has seen draining_.
      while (!listen_done_.load()) {
        http_.stop();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    // cpp-httplib 0.11 stops listening (closing the socket) when accept() fails with anything but EMFILE, e.g.
    // ECONNABORTED for a connection reset while it waited to be accepted: listen again on the same port.
    for (int again = 0;; ++again) {
      const bool stopped = http_.listen_after_bind();
      const int err = errno;
      std::lock_guard lock(listen_mu_);
      if (stopped || draining_.load()) break;
      if (again >= 100 || !http_.bind_to_port(options_.host, port_)) {
        fmt::print(stderr, "serve: cannot listen on {}:{} any more ({})\n", options_.host, port_, std::strerror(err));
        break;
      }
      http_.widen_backlog();
      fmt::print(stderr, "serve: accept failed ({}); listening again\n", std::strerror(err));
    }
    listen_done_.store(true);
    watcher.join();
    pool_.stop();
  }

 private:
  static std::vector<Metrics::ModelRow> metric_rows(const std::vector<PoolModelInfo>& models) {
    std::vector<Metrics::ModelRow> rows;
    for (const auto& m : models) rows.push_back({.name = m.name, .n_expert = m.n_expert});
    return rows;
  }

  // A 503 (busy, shutting down, timed out waiting) also says when to try again.
  static void send_error(httplib::Response& res, const ApiError& e) {
    if (e.status == 503 && !res.has_header("Retry-After"))
      res.set_header("Retry-After", e.code == "shutting_down" ? "5" : "1");
    res.status = e.status;
    res.set_content(dump(error_json(e)), "application/json");
  }

  // 503 with Retry-After: the server cannot take this request now (busy, shutting down, timed out waiting).
  static void send_unavailable(httplib::Response& res, int retry_after_seconds, std::string message, std::string code) {
    res.set_header("Retry-After", std::to_string(retry_after_seconds));
    send_error(res, ApiError{.status = 503,
                             .type = "server_error",
                             .message = std::move(message),
                             .param = {},
                             .code = std::move(code)});
  }

  ReplyHeader header(bool chat, const ModelContext& ctx) {
    const uint64_t n = ++reply_counter_;
    return {.id = fmt::format("{}-{:x}{:06x}", chat ? "chatcmpl" : "cmpl", std::time(nullptr), n),
            .created = static_cast<int64_t>(std::time(nullptr)),
            .model = ctx.model_id,
            .composition = nullptr};
  }

  static ApiError model_not_found(const std::string& id, const std::string& have) {
    return ApiError{.status = 404,
                    .type = "not_found_error",
                    .message = fmt::format("no model '{}' (this server has {})", id, have),
                    .param = "model",
                    .code = "model_not_found"};
  }

  // The deadline of a request arriving now (serve --timeout).
  Clock::time_point deadline() const {
    return options_.timeout_s > 0
               ? Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(options_.timeout_s * 1000))
               : Clock::time_point::max();
  }

  // /tokenize and /detokenize: the model a body's `model` names (a composition's default when none, or `auto`).
  ApiResult<ModelLease> model_for_body(const json& body) {
    size_t index = 0;
    if (composition_ != nullptr) {
      std::string name = composition_->default_model;
      if (const auto it = body.find("model"); it != body.end() && it->is_string() && *it != "auto") name = *it;
      const int64_t i = pool_.find(name);
      if (i < 0) return tl::unexpected(model_not_found(name, "'auto' and the models of GET /v1/models"));
      index = static_cast<size_t>(i);
    }
    return pool_.acquire(index, deadline());
  }

  // The endpoint label of /metrics: the route, or "other" (unknown paths must not grow the label set).
  static std::string endpoint_label(const std::string& path) {
    static const char* const kKnown[] = {
        "/",         "/health",    "/metrics", "/v1/models", "/v1/chat/completions", "/v1/completions",
        "/tokenize", "/detokenize"};
    for (const char* k : kKnown)
      if (path == k) return path;
    if (path.starts_with("/v1/models/")) return "/v1/models";
    return "other";
  }

  void routes() {
    const size_t workers = static_cast<size_t>(options_.scheduler.n_slots) + options_.scheduler.max_queue + 8;
    http_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    http_.set_payload_max_length(options_.max_body_bytes);
    http_.set_keep_alive_max_count(1000);
    // An idle kept-alive connection holds a worker thread and delays shutdown by up to this long.
    http_.set_keep_alive_timeout(2);
    http_.set_read_timeout(10);
    http_.set_write_timeout(10);
    http_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      metrics_.count_request(endpoint_label(req.path), res.status);
    });
    // Whatever cpp-httplib answers itself (404, 413, 400 for a bad request line) gets an OpenAI error body.
    http_.set_error_handler(
        httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          ApiError e;
          e.status = res.status;
          switch (res.status) {
            case 404:
              e.type = "not_found_error";
              e.message = fmt::format("no route {} {}", req.method, req.path);
              break;
            case 413: e.message = "the request body is too large"; break;
            default:
              e.type = res.status >= 500 ? "server_error" : "invalid_request_error";
              e.message = fmt::format("HTTP {}", res.status);
          }
          send_error(res, e);
          return httplib::Server::HandlerResponse::Handled;
        }));
    http_.set_exception_handler([](const httplib::Request&, httplib::Response& res, const std::exception_ptr& ep) {
      std::string what = "internal error";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      send_error(res, ApiError{.status = 500, .type = "server_error", .message = what, .param = {}, .code = {}});
    });
    http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      // Runs before the body is read. cpp-httplib would inflate a compressed body without applying --max-body
      // to what comes out (a small gzip bomb would fill memory): bodies must come uncompressed.
      if (const std::string enc = req.get_header_value("Content-Encoding"); !enc.empty() && enc != "identity") {
        res.set_header("Connection", "close");
        send_error(res, ApiError{.status = 415,
                                 .type = "invalid_request_error",
                                 .message = fmt::format("Content-Encoding '{}' is not supported; send the body "
                                                        "uncompressed",
                                                        enc),
                                 .param = {},
                                 .code = {}});
        return httplib::Server::HandlerResponse::Handled;
      }
      if (options_.api_key.empty() || req.path == "/" || req.path == "/health")
        return httplib::Server::HandlerResponse::Unhandled;
      if (req.get_header_value("Authorization") == "Bearer " + options_.api_key)
        return httplib::Server::HandlerResponse::Unhandled;
      send_error(res, ApiError{.status = 401,
                               .type = "authentication_error",
                               .message = "a valid API key is needed: 'Authorization: Bearer KEY' (serve --api-key)",
                               .param = {},
                               .code = "invalid_api_key"});
      return httplib::Server::HandlerResponse::Handled;
    });

    http_.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(chat_page_html()), "text/html; charset=utf-8");
    });
    http_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      const auto s = pool_.stats();
      res.status = draining_.load() ? 503 : 200;
      res.set_content(dump({{"status", draining_.load() ? "shutting down" : "ok"},
                            {"slots_idle", s.slots - s.active},
                            {"slots_processing", s.active},
                            {"queued", s.queued}}),
                      "application/json");
    });
    http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_.render(), "text/plain; version=0.0.4");
    });
    http_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      json data = json::array();
      for (size_t i = 0; i < pool_.models().size(); ++i) data.push_back(model_json(i));
      if (composition_ != nullptr) data.push_back(auto_json());
      res.set_content(dump({{"object", "list"}, {"data", std::move(data)}}), "application/json");
    });
    http_.Get("/v1/models/(.+)", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string id = req.matches[1];
      if (composition_ != nullptr && id == "auto") return res.set_content(dump(auto_json()), "application/json");
      const int64_t i = pool_.find(id);
      if (i < 0)
        return send_error(
            res, model_not_found(id, composition_ != nullptr ? std::string("'auto' and the models of GET /v1/models")
                                                             : fmt::format("'{}'", pool_.models().front().name)));
      res.set_content(dump(model_json(static_cast<size_t>(i))), "application/json");
    });
    http_.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) { tokenize(req, res); });
    http_.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) { detokenize(req, res); });
    http_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      generate(req, res, GenerationRequest::Kind::kChat);
    });
    http_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      generate(req, res, GenerationRequest::Kind::kCompletion);
    });
  }

  json model_json(size_t index) const {
    const PoolModelInfo& m = pool_.models()[index];
    json out = {{"id", m.name},
                {"object", "model"},
                {"created", started_},
                {"owned_by", "switchyard"},
                {"meta", {{"n_ctx", m.n_ctx}, {"n_vocab", m.n_vocab}}}};
    if (composition_ != nullptr) {
      out["description"] = m.description;
      out["categories"] = m.categories;
      out["loaded"] = pool_.is_loaded(index);
      out["meta"]["footprint_bytes"] = m.footprint_bytes;
    }
    return out;
  }

  // The composition itself: requests naming it are routed.
  json auto_json() const {
    json names = json::array();
    for (const auto& m : pool_.models()) names.push_back(m.name);
    return {{"id", "auto"},
            {"object", "model"},
            {"created", started_},
            {"owned_by", "switchyard"},
            {"description", fmt::format("routes each request to one of the models ({} router; default {})",
                                        coe::router_kind_name(composition_->router.kind), composition_->default_model)},
            {"models", std::move(names)},
            {"meta", {{"budget_bytes", pool_.budget_bytes()}}}};
  }

  void tokenize(const httplib::Request& req, httplib::Response& res) {
    auto body = parse_json_body(req.body);
    if (!body) return send_error(res, body.error());
    auto r = parse_tokenize_request(*body);
    if (!r) return send_error(res, r.error());
    auto lease = model_for_body(*body);
    if (!lease) return send_error(res, lease.error());
    const ModelContext& ctx = (*lease)->ctx;
    auto ids = ctx.tokenizer->encode(r->content, {.add_special = r->add_special, .parse_special = r->parse_special});
    if (!ids) return send_error(res, bad_request("content", ids.error().message).value());
    json tokens = json::array();
    for (const int32_t id : *ids) {
      if (!r->with_pieces) {
        tokens.push_back(id);
        continue;
      }
      // As llama-server: the piece as text when it is valid UTF-8, else its bytes.
      const std::string piece = ctx.tokenizer->token_to_piece(id, true);
      const std::string check = json(piece).dump(-1, ' ', false, json::error_handler_t::ignore);
      const bool utf8 = check.size() >= 2 && json::parse(check).get<std::string>() == piece;
      json bytes = json::array();
      if (!utf8)
        for (const char c : piece) bytes.push_back(static_cast<int>(static_cast<unsigned char>(c)));
      tokens.push_back({{"id", id}, {"piece", utf8 ? json(piece) : bytes}});
    }
    res.set_content(dump({{"tokens", std::move(tokens)}}), "application/json");
  }

  void detokenize(const httplib::Request& req, httplib::Response& res) {
    auto body = parse_json_body(req.body);
    if (!body) return send_error(res, body.error());
    auto lease = model_for_body(*body);
    if (!lease) return send_error(res, lease.error());
    const ModelContext& ctx = (*lease)->ctx;
    auto ids = parse_detokenize_request(*body, static_cast<int64_t>(ctx.tokenizer->size()));
    if (!ids) return send_error(res, ids.error());
    res.set_content(dump({{"content", ctx.tokenizer->decode(*ids, false)}}), "application/json");
  }

  void generate(const httplib::Request& req, httplib::Response& res, GenerationRequest::Kind kind) {
    const bool chat = kind == GenerationRequest::Kind::kChat;
    auto body = parse_json_body(req.body);
    if (!body) return send_error(res, body.error());
    auto request =
        chat ? parse_chat_request(*body, options_.defaults) : parse_completion_request(*body, options_.defaults);
    if (!request) return send_error(res, request.error());
    const auto until = deadline();
    // serve -m: the one model, whatever `model` says (as before compositions); a composition: the named model,
    // or the router's choice.
    ModelChoice choice;
    if (composition_ != nullptr) {
      auto c = choose_model(*request, pool_, *composition_, *router_);
      if (!c) return send_error(res, c.error());
      choice = std::move(*c);
      metrics_.count_model_request(choice.index, choice.routed);
    }
    auto lease = pool_.acquire(choice.index, until);
    if (!lease) return send_error(res, lease.error());
    if (composition_ != nullptr && lease->load_seconds() > 0) choice.routing["load_seconds"] = lease->load_seconds();
    const ModelContext& ctx = (*lease)->ctx;
    Scheduler& scheduler = *(*lease)->scheduler;
    auto input = make_job_input(ctx, *request, until);
    if (!input) return send_error(res, input.error());
    std::string echo_text;
    if (!chat && request->echo)
      echo_text = request->prompt_is_tokens ? ctx.tokenizer->decode(input->prompt, false) : request->prompt_text;
    auto job = std::make_shared<Job>(std::move(*input));
    switch (scheduler.submit(job)) {
      case Scheduler::Submit::kAccepted: break;
      case Scheduler::Submit::kQueueFull:
        return send_unavailable(res, 1,
                                "the server is busy (every sequence slot and the queue are full); "
                                "retry later",
                                "queue_full");
      case Scheduler::Submit::kClosed: return send_unavailable(res, 5, "the server is shutting down", "shutting_down");
    }
    ReplyHeader h = header(chat, ctx);
    if (composition_ != nullptr) h.composition = std::move(choice.routing);
    if (request->stream) {
      auto stream = std::make_shared<Stream>();
      stream->job = job;
      stream->request = std::move(*request);
      stream->header = h;
      stream->tokenizer = ctx.tokenizer;
      stream->lease = std::move(*lease);
      stream->echo_text = std::move(echo_text);
      in_flight_.enter();
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Accel-Buffering", "no");
      res.set_chunked_content_provider(
          "text/event-stream", [stream](size_t, httplib::DataSink& sink) { return stream->pump(sink); },
          [stream, this](bool) {
            // The connection ended (finished, broken or refused): a job still running has no reader.
            stream->job->cancel();
            stream->lease.reset();
            in_flight_.leave();
          });
      return;
    }
    // Not streamed: wait here, and cancel the job when the client goes away.
    const ConnectionProbe client(req.remote_addr, req.remote_port, req.local_port);
    std::vector<GeneratedToken> tokens;
    while (!job->take(tokens, kPoll))
      if (client.peer_gone()) job->cancel();
    const JobResult result = job->result();
    switch (result.reason) {
      case FinishReason::kError:
        return send_error(res, ApiError{.status = 500,
                                        .type = "server_error",
                                        .message = "generation failed: " + result.error,
                                        .param = {},
                                        .code = {}});
      case FinishReason::kShutdown:
      case FinishReason::kCancelled: return send_unavailable(res, 5, "the server is shutting down", "shutting_down");
      case FinishReason::kTimeout:
        if (result.completion_tokens == 0 && tokens.empty()) {
          return send_unavailable(res, 1, "the request timed out before its first token (serve --timeout)", "timeout");
        }
        break;
      default: break;
    }
    const json out = chat ? chat_completion_json(h, *request, *ctx.tokenizer, tokens, result)
                          : text_completion_json(h, *request, *ctx.tokenizer, echo_text, tokens, result);
    res.set_content(dump(out), "application/json");
  }

  ServeOptions options_;
  const coe::Composition* composition_;  // null: serve -m
  coe::PromptRouter* router_;            // with a composition
  Metrics metrics_;
  ModelPool pool_;  // after metrics_, which its schedulers write to
  HttplibServer http_;
  InFlight in_flight_;
  int port_ = 0;
  int64_t started_ = static_cast<int64_t>(std::time(nullptr));
  std::atomic<uint64_t> reply_counter_{0};
  std::atomic<bool> draining_{false};
  std::mutex listen_mu_;  // orders draining_ against re-binding the listener
  std::atomic<bool> listen_done_{false};
};

// SIGTERM and SIGINT are taken by the server's watcher thread (Server::run); blocked before any thread starts
// (engines' pools, schedulers, the model loader, cpp-httplib's workers), they reach no other thread. Restored when
// this goes.
struct StopSignals {
  sigset_t set, previous;
  StopSignals() {
    // A client that goes away must not kill the process with SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &previous);
  }
  ~StopSignals() { pthread_sigmask(SIG_SETMASK, &previous, nullptr); }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
};

ModelPoolOptions pool_options(const ServeOptions& options, const EngineSetup& setup, uint64_t budget_bytes) {
  return ModelPoolOptions{.budget_bytes = budget_bytes,
                          .n_threads = options.n_threads,
                          .scheduler = options.scheduler,
                          .chat_template = options.chat_template,
                          .setup = setup};
}

Status bind_and_run(Server& server, const ServeOptions& o, const std::string& what, const StopSignals& signals) {
  if (auto s = server.bind(); !s) return s;
  fmt::print(stderr, "serve: listening on http://{}:{} ({}, {} sequence slots of {} tokens, {} threads)\n", o.host,
             server.port(), what, o.scheduler.n_slots, server.pool().models().front().n_ctx, o.n_threads);
  std::fflush(stderr);
  server.run(signals.set);
  fmt::print(stderr, "serve: stopped\n");
  return {};
}

}  // namespace

Status serve(const model::Model& model, const tok::Tokenizer& tokenizer, const ServeOptions& options,
             const EngineSetup& setup) {
  const StopSignals signals;
  const ModelPoolOptions po = pool_options(options, setup, 0);
  auto info = inspect_borrowed_model(model, tokenizer, options.model_id, po);
  if (!info) return tl::unexpected(info.error());
  std::vector<PoolModelInfo> models;
  models.push_back(std::move(*info));
  Server server(std::move(models), po, options, nullptr, nullptr);
  if (auto s = server.pool().preload(0); !s) return s;
  return bind_and_run(server, options, fmt::format("model {}", options.model_id), signals);
}

Status serve_composition(const coe::Composition& composition, coe::PromptRouter& router, const ServeOptions& options,
                         const EngineSetup& setup) {
  const StopSignals signals;
  const ModelPoolOptions po = pool_options(options, setup, composition.budget_bytes);
  auto models = inspect_models(composition.models, po);
  if (!models) return fail(models.error().code, "{}: {}", composition.source.string(), models.error().message);
  Server server(std::move(*models), po, options, &composition, &router);
  const std::string budget = composition.budget_bytes > 0 ? fmt::format("{} bytes", composition.budget_bytes) : "none";
  return bind_and_run(server, options,
                      fmt::format("composition {}: {} models, {} router, budget {}", composition.source.string(),
                                  composition.models.size(), coe::router_kind_name(composition.router.kind), budget),
                      signals);
}

}  // namespace sy::server
