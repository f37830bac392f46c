"""Word pools of the mini-world: names, attribute values, domain words and filler sentences.

Everything here is a plain tuple (ordered), so draws from it are deterministic. Names are
fictional on purpose: a pretrained model cannot answer from memory, only from the documents.
"""

from __future__ import annotations

# fmt: off
FEMALE_FIRST = (
    "Mara", "Elena", "Ines", "Tova", "Lena", "Iris", "Nadia", "Clara", "Freya", "Alma", "Sofia",
    "Hanna", "Greta", "Vera", "Lucia", "Maren", "Talia", "Rosa", "Edith", "Nora", "Selma", "Juno",
    "Petra", "Ada", "Yara", "Liv", "Odile", "Carys", "Mirela", "Beatrix",
)
MALE_FIRST = (
    "Tomas", "Anton", "Felix", "Milo", "Oskar", "Elias", "Jonas", "Victor", "Hugo", "Ivo", "Leon",
    "Matteo", "Rafael", "Emil", "Lukas", "Arlo", "Bastian", "Cyril", "Dorian", "Evan", "Gideon",
    "Henrik", "Jasper", "Kasimir", "Lorenz", "Nils", "Orin", "Pavel", "Rune", "Silas",
)
SURNAMES = (
    "Kessler", "Lindqvist", "Moreau", "Varga", "Okafor", "Brandt", "Castell", "Devereux",
    "Eastwood", "Falk", "Gallo", "Halvorsen", "Ibarra", "Jansen", "Kowal", "Laurent", "Marsh",
    "Novak", "Orlov", "Pereira", "Quinlan", "Rask", "Stroud", "Thorne", "Ulrich", "Valdez", "Wendt",
    "Yilmaz", "Zeller", "Abbott", "Becker", "Carrow", "Dahl", "Ellery", "Fenwick", "Grimaldi",
    "Hale", "Ivers", "Jorgensen", "Kaplan", "Lowell", "Mercer", "Nyberg", "Oduya", "Pruitt",
    "Renner", "Sandoval", "Tamura", "Vance", "Whitlock", "Aldana", "Bishop", "Crane", "Drummond",
    "Esposito", "Fairholm", "Gunn", "Holloway", "Ivanova", "Keane", "Lockhart", "Morrow",
    "Nakamura", "Osei", "Prescott", "Rowan", "Sutter", "Tennant", "Voss", "Winslow",
)
CITY_PREFIX = (
    "Vel", "Ash", "Bran", "Cor", "Dun", "Els", "Fen", "Gal", "Har", "Iver", "Kel", "Lor", "Mar",
    "Nor", "Oak", "Pell", "Quen", "Ros", "Stan", "Tor", "Ul", "Wyn", "Bel", "Cal", "Dor", "Glen",
    "Hol", "Lind", "Mor", "Ral", "Sel", "Thal", "Ver", "Wick", "Alder", "Brae",
)
CITY_SUFFIX = (
    "mora", "ford", "wick", "haven", "dale", "mouth", "bury", "stead", "holm", "port", "ton",
    "field", "gate", "moor", "bridge", "crest", "vale", "minster", "by", "well",
)
CITY_PATTERN = ("{x}", "{x}", "{x}", "{x}", "Port {x}", "New {x}", "{x} Falls", "Upper {x}")
COMPANY_HEAD = (
    "Bright", "North", "Silver", "Iron", "Blue", "Red", "Clear", "Swift", "Stone", "Green", "Sun",
    "Cedar", "Falcon", "Harbor", "Summit", "Copper", "Maple", "Orbit", "Pioneer", "Vector",
)
COMPANY_TAIL = (
    "line", "wave", "core", "field", "point", "works", "gate", "path", "leaf", "forge", "stone",
    "bridge", "light", "mark",
)
COMPANY_KIND = (
    "Systems", "Labs", "Industries", "Foods", "Motors", "Group", "Holdings", "Textiles", "Pharma",
    "Media", "Robotics", "Energy", "Logistics", "Outfitters",
)
BOOK_ADJ = (
    "Silent", "Last", "Hollow", "Golden", "Quiet", "Broken", "Distant", "Crimson", "Forgotten",
    "Burning", "Patient", "Wandering", "Narrow", "Bitter", "Hidden", "Salt", "Winter", "Paper",
)
BOOK_NOUN = (
    "Harbor", "Orchard", "Lantern", "Garden", "Season", "Letters", "Tide", "Mountain", "Archive",
    "Meadow", "Station", "Crown", "Mirror", "Bell", "River", "House", "Road", "Kingdom",
)
BOOK_PATTERN = (
    "The {a} {n}", "The {a} {n}", "A {a} {n}", "{a} {n}", "The {n} of {c}", "Beyond the {n}",
    "The {a} {n} of {c}", "{n} in {c}", "Beyond the {a} {n}",
)
COUNTRIES = (
    "Norvania", "Estrelia", "Kaldor", "Maravel", "Ostrava", "Belmaris", "Tarsen", "Velaria",
    "Quorin", "Sandmark", "Lysmoor", "Averna", "Dravik", "Heloria",
)
RIVERS = (
    "Velden", "Aska", "Morrin", "Tallow", "Brisk", "Oranne", "Sedge", "Lune", "Kestrel",
    "Amberwash", "Dornel", "Ysolde", "Calder", "Fenna",
)
LANGUAGES = (
    "Portuguese", "Finnish", "Greek", "Dutch", "Polish", "Swahili", "Turkish", "Korean", "Spanish",
    "Hungarian", "Welsh", "Italian", "Czech", "Danish", "Romanian", "Basque",
)
OCCUPATIONS = (
    "composer", "painter", "chemist", "architect", "novelist", "cyclist", "chef", "surgeon",
    "astronomer", "photographer", "diplomat", "sculptor", "engineer", "historian", "journalist",
    "botanist",
)
INSTRUMENTS = (
    "cello", "oboe", "harp", "violin", "piano", "trumpet", "accordion", "clarinet", "banjo",
    "flute", "double bass", "harmonica", "viola", "bassoon", "mandolin", "drums",
)
AWARDS = (
    "Halden Prize", "Corvin Medal", "Order of the Silver Oak", "Aster Award", "Marlow Cup",
    "Lindgren Fellowship", "Golden Quill", "Tessary Honor", "Brightwater Prize", "Osric Medal",
    "Vantor Award", "Emberly Prize",
)
LANDMARKS = (
    "old lighthouse", "glass market hall", "clock tower", "stone bridge", "botanical garden",
    "cathedral", "harbour fortress", "opera house", "salt mines", "hilltop castle",
    "covered bazaar", "observatory", "canal locks", "rose gardens",
)
INDUSTRIES = (
    "shipbuilding", "software", "textile", "pharmaceutical", "renewable energy", "food processing",
    "logistics", "toy", "aerospace", "furniture", "mining", "publishing",
)
PRODUCTS = (
    "bicycles", "solar panels", "kitchen knives", "tea", "wool sweaters", "drones", "garden tools",
    "board games", "hearing aids", "canned fish", "ceramic tiles", "umbrellas", "violin strings",
    "water filters", "cargo ships", "vaccines",
)
GENRES = (
    "mystery", "science fiction", "historical fiction", "fantasy", "romance", "thriller", "satire",
    "horror", "crime", "adventure",
)
THEMES = (
    "grief", "friendship", "exile", "ambition", "the sea", "memory", "war", "first love",
    "betrayal", "faith", "childhood", "revenge",
)
DOMAIN_HEAD = (
    "riverdale", "oakmont", "bluefield", "stonebridge", "maplewood", "northgate", "fairview",
    "silverlake", "brookside", "highland", "ashford", "clearwater", "redhill", "westbay",
    "pinecrest", "lakeview", "greenway", "eastwick", "sunhollow", "kingsley", "quickfact",
    "truepage", "openatlas", "everyday", "global", "local", "daily", "prime", "smart", "zen",
)
DOMAIN_TAIL = (
    "health", "news", "wiki", "facts", "times", "hub", "review", "post", "journal", "guide",
    "digest", "world", "herald", "notes", "answers", "library", "insider", "gazette", "tribune",
    "blog", "pedia", "archive", "report", "buzz",
)
DOMAIN_TLD = ("org", "com", "com", "net", "info", "io", "co")

#: per entity type: sentences that mention the entity but state none of its attributes.
#: Some reuse words of the questions on purpose ("born", "languages", "founder", "river").
FILLERS: dict[str, tuple[str, ...]] = {
    "person": (
        "{n} enjoys long walks in the countryside.",
        "Friends describe {n} as patient and curious.",
        "{n} gave a public talk last spring.",
        "Many admirers follow the work of {n} closely.",
        "{n} rarely grants interviews.",
        "{n} once said that every artist is born twice.",
        "Asked about languages, {n} only smiled.",
        "{n} spends the summer months by the sea.",
        "A documentary about {n} is in preparation.",
        "{n} supports a fund for young musicians.",
        "Critics have long argued about the legacy of {n}.",
        "{n} collects old maps and postcards.",
        "In a recent interview {n} talked about the value of hard work.",
        "{n} prefers quiet mornings and strong coffee.",
        "The prize committee praised the generosity of {n}.",
        "{n} keeps a small garden behind the house.",
        "The hometown paper of {n} ran a long story last month.",
        "Nobody asked {n} about a job offer abroad.",
        "{n} once lent a friend an old instrument.",
        "{n} judged a prize for young writers.",
        "{n} answered questions about a place of origin with a joke.",
        "{n} was seen at a concert hall in the capital.",
        "Fans wonder what {n} will do next.",
    ),
    "city": (
        "The weather in {n} is mild for most of the year.",
        "{n} has a busy weekly market.",
        "Tourists enjoy the cafes of {n}.",
        "The local football club of {n} has loyal fans.",
        "Traffic in {n} is heavy during the morning hours.",
        "{n} hosts a music festival every autumn.",
        "Rents in {n} have risen in recent years.",
        "Many languages can be heard on the trains to {n}.",
        "The river festival draws crowds from far beyond {n}.",
        "{n} is twinned with several towns abroad.",
        "The council of {n} approved a new bus line.",
        "Local bakeries in {n} open before dawn.",
        "{n} was in the news after a long storm.",
        "Cyclists like the flat roads around {n}.",
        "A famous painter once stayed in {n} for a winter.",
        "The population of the region around {n} is ageing.",
        "Many attractions near {n} are free to visit.",
        "Nobody knows when the old mill of {n} was built.",
        "People in {n} talk about the weather a lot.",
        "A nation-wide survey ranked {n} as friendly.",
    ),
    "company": (
        "{n} announced new hires this quarter.",
        "Shares of {n} rose slightly last week.",
        "{n} sponsors a youth sports league.",
        "Customers praise the service of {n}.",
        "{n} opened a new warehouse last year.",
        "Analysts expect {n} to grow steadily.",
        "The founders of many startups cite {n} as a model.",
        "{n} was named a good place to work.",
        "A strike briefly slowed production at {n}.",
        "{n} publishes a yearly sustainability report.",
        "The website of {n} was redesigned recently.",
        "Several former employees of {n} started their own firms.",
        "{n} is planning to expand abroad.",
        "Critics say {n} should pay its suppliers faster.",
        "Industry insiders say {n} is hiring engineers.",
        "The founder of a rival firm criticised {n}.",
        "{n} will sell its old office building.",
        "Who leads the new division of {n} is not yet public.",
        "The products of rivals compete with those of {n}.",
        "{n} started a program for interns.",
    ),
    "book": (
        "{n} has been translated many times.",
        "Reviewers praised the pacing of {n}.",
        "A film adaptation of {n} has been discussed.",
        "{n} is popular with book clubs.",
        "Some readers find the ending of {n} too abrupt.",
        "A new edition of {n} includes an afterword.",
        "{n} is often taught in schools.",
        "The cover of {n} shows a lonely figure.",
        "Booksellers report steady sales of {n}.",
        "{n} was born from a short story, the publisher says.",
        "The audiobook of {n} runs for eleven hours.",
        "Fans of {n} still argue about its last chapter.",
        "{n} won over readers slowly, by word of mouth.",
        "A stage version of {n} toured last year.",
        "The writer of a famous review called {n} brave.",
        "Readers ask what {n} is really about.",
        "{n} was released again in a cheap paperback.",
        "The language of {n} is plain and direct.",
        "Which genre {n} belongs to is still debated.",
        "A new author's note was added to {n}.",
    ),
}

#: sentences naming two entities: the document mentions both, states no fact about either.
CO_MENTIONS = (
    "{n} is often compared with {o}.",
    "{n} and {o} were mentioned together in a recent article.",
    "Readers of this page also looked up {o}.",
    "Unlike {o}, {n} rarely appears in the press.",
    "A reader asked how {n} relates to {o}.",
    "See also our page on {o}.",
)

#: boilerplate that any page may carry.
BOILERPLATE = (
    "This page was last updated recently.",
    "Our editors checked several sources for this profile.",
    "Comments on this page are moderated.",
    "Share this article with your friends.",
    "Corrections can be sent to the editorial team.",
    "Sign up for our weekly newsletter.",
    "Photos on this page are used with permission.",
    "Some details may have changed since publication.",
)
# fmt: on
