// The words the seeder builds customers and tickets from. Name lists are in descending order of
// real-world frequency (US census surnames, SSA first names) so that Zipf ranks over them give
// a realistic spread: many "James Smith", one "Zoe Okafor".
#pragma once

#include <span>
#include <string_view>

namespace crmscope::crm {

std::span<const std::string_view> FirstNames();
std::span<const std::string_view> LastNames();
std::span<const std::string_view> CompanyStems();     // "Acme", "Globex", ...
std::span<const std::string_view> CompanySuffixes();  // "Inc", "GmbH", ...
std::span<const std::string_view> PersonalMailDomains();
std::span<const std::string_view> TicketSubjects();

}  // namespace crmscope::crm
