// Column statistics of a CSV file with libc++ streams: the header line names the columns, every
// other line is split on ',' (std::getline over a std::istringstream) and each cell parsed with
// operator>> into a double; output.txt gets count, sum, mean, min and max per column in fixed
// notation (std::fixed, std::setprecision), and how many cells were not numbers.
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Column {
    std::string name;
    long count = 0, skipped = 0;
    double sum = 0, min = std::numeric_limits<double>::infinity(), max = -std::numeric_limits<double>::infinity();
};

std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> cells;
    std::istringstream stream(line);
    std::string cell;
    while (std::getline(stream, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    return cells;
}

bool number(const std::string& cell, double& value) {
    std::istringstream stream(cell);
    stream >> value;
    if (stream.fail()) return false;
    stream >> std::ws;
    return stream.eof();
}

}  // namespace

int main() {
    std::ifstream in("input.txt");
    std::string line;
    if (!in || !std::getline(in, line)) {
        std::cerr << "csvsum: input.txt has no header line" << std::endl;
        return 1;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<Column> columns;
    for (const std::string& name : split(line)) columns.push_back(Column{name});
    long rows = 0;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        ++rows;
        std::vector<std::string> cells = split(line);
        for (std::vector<Column>::size_type i = 0; i < columns.size(); ++i) {
            double value;
            if (i < cells.size() && number(cells[i], value)) {
                Column& c = columns[i];
                ++c.count;
                c.sum += value;
                if (value < c.min) c.min = value;
                if (value > c.max) c.max = value;
            } else {
                ++columns[i].skipped;
            }
        }
    }
    std::ofstream out("output.txt");
    out << rows << " rows, " << columns.size() << " columns\n" << std::fixed << std::setprecision(4);
    for (const Column& c : columns) {
        out << c.name << ": count " << c.count;
        if (c.count > 0) {
            out << " sum " << c.sum << " mean " << c.sum / static_cast<double>(c.count) << " min " << c.min
                << " max " << c.max;
        }
        out << " skipped " << c.skipped << '\n';
    }
    return out ? 0 : 1;
}
