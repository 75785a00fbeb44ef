// The chat page served at `/`: plain HTML, CSS and JavaScript in one file (src/server/http/page.html), compiled
// into the binary (cmake/embed_text.cmake), loading nothing from the network.
#pragma once

#include <string_view>

namespace sy::server {

std::string_view chat_page_html();

}  // namespace sy::server
