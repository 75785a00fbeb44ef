# cmake -DIN=FILE -DOUT=FILE.cpp -DFUNCTION=NAME -DHEADER=path.h -P embed_text.cmake: writes a .cpp whose function
# NAME returns FILE's bytes as a std::string_view (a raw string literal). Used for the server's chat page.
file(READ "${IN}" content)
if(content MATCHES "\\)sy_embed\"")
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )sy_embed\"")
endif()
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/embed_text.cmake; edit that file instead.
#include \"${HEADER}\"

namespace sy::server {

std::string_view ${FUNCTION}() {
  static const char kText[] = R\"sy_embed(${content})sy_embed\";
  return {kText, sizeof kText - 1};
}

}  // namespace sy::server
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
