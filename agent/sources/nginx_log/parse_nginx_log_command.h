// crmscope-agent parse-nginx-log: replays an access log through the nginx_log source's parser
// and prints the derived series, as the agent would ship them after reading the whole file.
//
//   crmscope-agent parse-nginx-log --log-format '<format>' [--route-rule REGEX=TEMPLATE ...]
//       [--request-buckets 0.005,0.01,...] [--upstream-buckets ...] [--max-routes N] FILE|-
//
// Prints the text exposition format 0.0.4 on stdout. A line that does not follow the format is
// reported on stderr as "FILE:LINE: reason" and counted, never fatal; a summary line
// ("FILE: N lines parsed, M rejected") ends stderr.
// Exit status: 0 when the file was read, 1 when it could not be read, 2 on bad flags.
#pragma once

namespace crmscope::agent {

// argv[0] is the command's own name ("parse-nginx-log"); flags and FILE follow.
int RunParseNginxLog(int argc, char** argv);

}  // namespace crmscope::agent
