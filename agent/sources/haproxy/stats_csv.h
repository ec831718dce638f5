// HAProxy's stats CSV, as "show stat" on the stats socket and the stats page's ";csv" write it:
// a header line "# pxname,svname,qcur,..." then one line per frontend, backend, server and
// listener. Columns are found by their header name, since HAProxy adds columns with every
// version (2.6 writes about 100) and a reader must not depend on their positions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crmscope::agent {

class StatsCsv {
 public:
  // Reads the header; false (with *error) if `text` is not stats CSV. `text` must outlive the
  // reader's use of it: fields are views into it.
  bool Reset(std::string_view text, std::string* error);
  // The header line without "# ", to notice when the column set changed.
  std::string_view header() const { return header_; }
  // The index of the column named `name`, or -1 when this HAProxy does not write it.
  int Column(std::string_view name) const;
  // Advances to the next data line; false at the end of the text.
  bool NextRow();
  // A field of the current row: "" when the column is absent (-1) or the field empty. A quoted
  // field comes without its quotes (an embedded quote stays doubled).
  std::string_view Field(int column) const;

 private:
  std::string_view rest_;
  std::string_view header_;
  std::vector<std::string_view> names_;
  std::vector<std::string_view> fields_;
};

// Splits one CSV record at the start of `text` into `fields` (views into `text`) and returns the
// length consumed, the line end included. Commas and newlines inside double quotes are data.
size_t SplitCsvRecord(std::string_view text, std::vector<std::string_view>* fields);

}  // namespace crmscope::agent
