#include "nsrun/sysctl.hpp"

#include "nsrun/sys.hpp"

#include <algorithm>

namespace nsrun::sysctl {

std::string path_of(const std::string& key) {
    std::string path = key;
    std::replace(path.begin(), path.end(), '.', '/');
    return "/proc/sys/" + path;
}

void write(const std::string& key, const std::string& value) { sys::write_file(path_of(key), value); }

std::string read(const std::string& key) {
    std::string text = sys::read_file(path_of(key));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

} // namespace nsrun::sysctl
