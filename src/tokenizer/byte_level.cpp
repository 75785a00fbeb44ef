#include "tokenizer/byte_level.h"

#include "tokenizer/utf8.h"

namespace sy::tok {
namespace {

bool printable_as_itself(int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); }

struct Tables {
  std::array<uint32_t, 256> cp_of_byte{};
  std::array<std::string, 256> symbol{};
  std::array<int16_t, 324> byte_of_cp{};  // code points used are below 256 + 68

  Tables() {
    byte_of_cp.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      cp_of_byte[b] = printable_as_itself(b) ? static_cast<uint32_t>(b) : next++;
      append_utf8(symbol[b], cp_of_byte[b]);
      byte_of_cp[cp_of_byte[b]] = static_cast<int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const std::array<std::string, 256>& byte_level_symbols() { return tables().symbol; }

std::optional<uint8_t> byte_level_byte(uint32_t cp) {
  const auto& t = tables();
  if (cp >= t.byte_of_cp.size() || t.byte_of_cp[cp] < 0) return std::nullopt;
  return static_cast<uint8_t>(t.byte_of_cp[cp]);
}

void byte_level_encode(std::string_view bytes, std::string& out) {
  const auto& sym = tables().symbol;
  for (char c : bytes) out += sym[static_cast<uint8_t>(c)];
}

void byte_level_decode(std::string_view text, std::string& out) {
  for (size_t i = 0; i < text.size();) {
    const DecodedChar c = decode_utf8(text, i);
    if (auto b = c.valid ? byte_level_byte(c.cp) : std::nullopt) {
      out += static_cast<char>(*b);
    } else {
      out.append(text.substr(i, c.len));
    }
    i += c.len;
  }
}

}  // namespace sy::tok
