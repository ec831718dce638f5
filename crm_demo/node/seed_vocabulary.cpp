#include "crm_demo/node/seed_vocabulary.h"

#include <array>

namespace crmscope::crm {

namespace {

constexpr std::array<std::string_view, 120> kFirstNames = {
    "James",   "Mary",      "Robert",    "Patricia", "John",      "Jennifer", "Michael",
    "Linda",   "David",     "Elizabeth", "William",  "Barbara",   "Richard",  "Susan",
    "Joseph",  "Jessica",   "Thomas",    "Sarah",    "Charles",   "Karen",    "Christopher",
    "Lisa",    "Daniel",    "Nancy",     "Matthew",  "Betty",     "Anthony",  "Margaret",
    "Mark",    "Sandra",    "Donald",    "Ashley",   "Steven",    "Kimberly", "Paul",
    "Emily",   "Andrew",    "Donna",     "Joshua",   "Michelle",  "Kenneth",  "Carol",
    "Kevin",   "Amanda",    "Brian",     "Dorothy",  "George",    "Melissa",  "Timothy",
    "Deborah", "Ronald",    "Stephanie", "Edward",   "Rebecca",   "Jason",    "Sharon",
    "Jeffrey", "Laura",     "Ryan",      "Cynthia",  "Jacob",     "Kathleen", "Gary",
    "Amy",     "Nicholas",  "Angela",    "Eric",     "Shirley",   "Jonathan", "Anna",
    "Stephen", "Brenda",    "Larry",     "Pamela",   "Justin",    "Emma",     "Scott",
    "Nicole",  "Brandon",   "Helen",     "Benjamin", "Samantha",  "Samuel",   "Katherine",
    "Gregory", "Christine", "Alexander", "Debra",    "Frank",     "Rachel",   "Patrick",
    "Carolyn", "Raymond",   "Janet",     "Jack",     "Catherine", "Dennis",   "Maria",
    "Jerry",   "Heather",   "Tyler",     "Diane",    "Aaron",     "Ruth",     "Jose",
    "Julie",   "Adam",      "Olivia",    "Nathan",   "Joyce",     "Henry",    "Virginia",
    "Douglas", "Victoria",  "Zachary",   "Kelly",    "Peter",     "Lauren",   "Kyle",
    "Zoe"};

constexpr std::array<std::string_view, 152> kLastNames = {
    "Smith",    "Johnson",   "Williams",   "Brown",     "Jones",      "Garcia",    "Miller",
    "Davis",    "Rodriguez", "Martinez",   "Hernandez", "Lopez",      "Gonzalez",  "Wilson",
    "Anderson", "Thomas",    "Taylor",     "Moore",     "Jackson",    "Martin",    "Lee",
    "Perez",    "Thompson",  "White",      "Harris",    "Sanchez",    "Clark",     "Ramirez",
    "Lewis",    "Robinson",  "Walker",     "Young",     "Allen",      "King",      "Wright",
    "Scott",    "Torres",    "Nguyen",     "Hill",      "Flores",     "Green",     "Adams",
    "Nelson",   "Baker",     "Hall",       "Rivera",    "Campbell",   "Mitchell",  "Carter",
    "Roberts",  "Gomez",     "Phillips",   "Evans",     "Turner",     "Diaz",      "Parker",
    "Cruz",     "Edwards",   "Collins",    "Reyes",     "Stewart",    "Morris",    "Morales",
    "Murphy",   "Cook",      "Rogers",     "Gutierrez", "Ortiz",      "Morgan",    "Cooper",
    "Peterson", "Bailey",    "Reed",       "Kelly",     "Howard",     "Ramos",     "Kim",
    "Cox",      "Ward",      "Richardson", "Watson",    "Brooks",     "Chavez",    "Wood",
    "James",    "Bennett",   "Gray",       "Mendoza",   "Ruiz",       "Hughes",    "Price",
    "Alvarez",  "Castillo",  "Sanders",    "Patel",     "Myers",      "Long",      "Ross",
    "Foster",   "Jimenez",   "Powell",     "Jenkins",   "Perry",      "Russell",   "Sullivan",
    "Bell",     "Coleman",   "Butler",     "Henderson", "Barnes",     "Gonzales",  "Fisher",
    "Vasquez",  "Simmons",   "Romero",     "Jordan",    "Patterson",  "Alexander", "Hamilton",
    "Graham",   "Reynolds",  "Griffin",    "Wallace",   "Moreno",     "West",      "Cole",
    "Hayes",    "Bryant",    "Herrera",    "Gibson",    "Ellis",      "Tran",      "Medina",
    "Aguilar",  "Stevens",   "Murray",     "Ford",      "Castro",     "Marshall",  "Owens",
    "Harrison", "Fernandez", "McDonald",   "Woods",     "Washington", "Kennedy",   "Wells",
    "Vargas",   "Henry",     "Chen",       "Freeman",   "Okafor"};

constexpr std::array<std::string_view, 40> kCompanyStems = {"Acme",
                                                            "Globex",
                                                            "Initech",
                                                            "Umbrella",
                                                            "Stark",
                                                            "Wayne",
                                                            "Wonka",
                                                            "Hooli",
                                                            "Vandelay",
                                                            "Soylent",
                                                            "Cyberdyne",
                                                            "Tyrell",
                                                            "Gringotts",
                                                            "Oscorp",
                                                            "Massive Dynamic",
                                                            "Pied Piper",
                                                            "Aperture",
                                                            "Black Mesa",
                                                            "Monarch",
                                                            "Nakatomi",
                                                            "Dunder Mifflin",
                                                            "Sterling Cooper",
                                                            "Prestige Worldwide",
                                                            "Bluth",
                                                            "Krusty",
                                                            "Planet Express",
                                                            "Virtucon",
                                                            "Gekko",
                                                            "Zorg",
                                                            "Weyland",
                                                            "Blue Sun",
                                                            "Rekall",
                                                            "Omni",
                                                            "Buy n Large",
                                                            "Spacely",
                                                            "Cogswell",
                                                            "Tessier",
                                                            "Sirius",
                                                            "Yoyodyne",
                                                            "Octan"};

constexpr std::array<std::string_view, 8> kCompanySuffixes = {"Inc",  "LLC",   "Ltd",      "GmbH",
                                                              "Corp", "Group", "Holdings", "SA"};

constexpr std::array<std::string_view, 5> kPersonalMailDomains = {
    "gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me"};

constexpr std::array<std::string_view, 20> kTicketSubjects = {"Cannot log in",
                                                              "Invoice amount is wrong",
                                                              "Refund not received",
                                                              "Order arrived damaged",
                                                              "Change billing address",
                                                              "Upgrade subscription plan",
                                                              "Cancel my order",
                                                              "Password reset email missing",
                                                              "Shipping is delayed",
                                                              "Duplicate charge on card",
                                                              "Export of contacts fails",
                                                              "API rate limit too low",
                                                              "Add a user to our account",
                                                              "Wrong item delivered",
                                                              "Request a quote",
                                                              "Data import stuck",
                                                              "Two-factor code not arriving",
                                                              "Question about VAT",
                                                              "Downgrade plan",
                                                              "Integration with email broken"};

}  // namespace

std::span<const std::string_view> FirstNames() { return kFirstNames; }
std::span<const std::string_view> LastNames() { return kLastNames; }
std::span<const std::string_view> CompanyStems() { return kCompanyStems; }
std::span<const std::string_view> CompanySuffixes() { return kCompanySuffixes; }
std::span<const std::string_view> PersonalMailDomains() { return kPersonalMailDomains; }
std::span<const std::string_view> TicketSubjects() { return kTicketSubjects; }

}  // namespace crmscope::crm
