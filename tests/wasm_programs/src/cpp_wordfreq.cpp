// Word frequencies with libc++ streams: words of input.txt (std::ifstream >> std::string), ASCII
// letters lowercased and ASCII punctuation trimmed at both ends, counted in a std::map, the 20 most
// frequent written to output.txt (std::ofstream, std::setw). No word at all: a message on std::cerr
// and exit code 4.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace {

std::string normalise(const std::string& word) {
    std::string::size_type begin = 0, end = word.size();
    auto punct = [](char c) { return std::ispunct(static_cast<unsigned char>(c)) != 0; };
    while (begin < end && punct(word[begin])) ++begin;
    while (end > begin && punct(word[end - 1])) --end;
    std::string result = word.substr(begin, end - begin);
    for (char& c : result) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return result;
}

}  // namespace

int main() {
    std::ifstream in("input.txt", std::ios::binary);
    if (!in) {
        std::cerr << "wordfreq: cannot open input.txt" << std::endl;
        return 1;
    }
    std::map<std::string, long> counts;
    long total = 0;
    std::string word;
    while (in >> word) {
        std::string key = normalise(word);
        if (key.empty()) continue;
        ++counts[key];
        ++total;
    }
    if (total == 0) {
        std::cerr << "wordfreq: no words in input.txt" << std::endl;
        return 4;
    }
    std::vector<std::pair<std::string, long>> ranked(counts.begin(), counts.end());
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& x, const auto& y) { return x.second > y.second; });
    if (ranked.size() > 20) ranked.resize(20);

    std::ofstream out("output.txt", std::ios::binary | std::ios::trunc);
    out << total << " words, " << counts.size() << " distinct\n";
    for (const auto& entry : ranked) out << std::setw(6) << entry.second << ' ' << entry.first << '\n';
    out.close();
    if (!out) {
        std::cerr << "wordfreq: writing output.txt failed" << std::endl;
        return 1;
    }
    return 0;
}
