//! The built-in lists the sample draws from: names, places, books, libraries.

/// First names: French and from the countries a French university welcomes.
#[rustfmt::skip]
pub const FIRST_NAMES: &[&str] = &[
    "Camille", "Léa", "Chloé", "Manon", "Inès", "Anaïs", "Maëlle", "Noémie", "Hélène", "Élodie",
    "Adèle", "Louise", "Jeanne", "Zoë", "Jérôme", "François", "Théo", "Hugo", "Lucas", "Mathéo",
    "Raphaël", "Noël", "Gaëtan", "Benoît", "Sébastien", "Clément", "Łukasz", "Zofia", "Małgorzata",
    "Björn", "Søren", "Astrid", "José", "Núria", "João", "Inês", "Aïcha", "Mehdi", "Yasmine",
    "Karim", "Fatoumata", "Mamadou", "Olumide", "Chiamaka", "Thị Lan", "Minh Anh", "Quang", "Wei",
    "Xiaoling", "Hiroshi", "Yūki", "Dmitri", "Ekaterina", "Şebnem", "Gülşen", "Emre", "Siobhán",
    "Seán", "Priya", "Arjun",
];

/// Family names, with particles, apostrophes, hyphens and diacritics.
#[rustfmt::skip]
pub const LAST_NAMES: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Lefèvre", "Garnier", "Faure", "Rousseau", "Mercier", "Bonnet", "Lambert",
    "Fontaine", "Chevalier", "Girard", "Lemaire", "Le Goff", "Saint-Martin", "Da Silva",
    "Ferreira", "García", "Fernández", "Kowalski", "Wiśniewski", "Nowak", "Müller", "Schröder",
    "Andersson", "Søndergaard", "Nguyễn", "Trần", "Lê", "Phạm", "Zhang", "Wang", "Tanaka",
    "Yamamoto", "Ivanova", "Petrov", "Öztürk", "Yılmaz", "Benali", "Haddad", "Bensaïd", "N'Diaye",
    "Diallo", "Traoré", "Okafor", "O'Connor", "McCarthy", "Papadopoulos", "Rossi", "Esposito",
    "Ben Youssef", "de La Fontaine",
];

/// Streets of the Bordeaux area.
#[rustfmt::skip]
pub const STREETS: &[&str] = &[
    "rue Sainte-Catherine", "cours de l'Intendance", "cours Victor-Hugo", "rue Judaïque",
    "avenue Thiers", "quai des Chartrons", "rue du Palais-Gallien", "cours de la Marne",
    "rue Notre-Dame", "avenue de la Libération", "rue Camille-Pelletan", "allée des Peupliers",
    "place de la Victoire", "rue Émile-Zola", "cours Gambetta", "avenue Jean-Jaurès",
    "rue de Pessac", "chemin de Suzon",
];

/// Second address lines, `{}` replaced by a number.
pub const SECOND_LINES: &[&str] = &[
    "Résidence universitaire Village 3, chambre {}",
    "Bâtiment B, appartement {}",
    "Escalier C, porte {}",
    "Résidence Le Vélodrome, logement {}",
];

/// Postcode and town.
pub const TOWNS: &[(&str, &str)] = &[
    ("33000", "Bordeaux"),
    ("33800", "Bordeaux"),
    ("33400", "Talence"),
    ("33600", "Pessac"),
    ("33700", "Mérignac"),
    ("33130", "Bègles"),
    ("33150", "Cenon"),
    ("33170", "Gradignan"),
    ("33140", "Villenave-d'Ornon"),
    ("33310", "Lormont"),
];

/// Addresses abroad: street, postcode, city, country.
pub const ABROAD: &[(&str, &str, &str, &str)] = &[
    ("Calle de Alcalá 45", "28014", "Madrid", "Espagne"),
    ("ul. Floriańska 12", "31-019", "Kraków", "Pologne"),
    ("Via Roma 8", "10121", "Torino", "Italie"),
    ("Hauptstraße 5", "69117", "Heidelberg", "Allemagne"),
    ("12 Phố Hàng Bạc", "100000", "Hà Nội", "Viêt Nam"),
];

/// Email domains of patrons.
pub const EMAIL_DOMAINS: &[&str] = &[
    "etu.example.fr",
    "etu.example.fr",
    "etu.example.fr",
    "example.fr",
    "courriel.example.org",
    "example.com",
];

/// Title, author (may be empty), call number.
pub const BOOKS: &[(&str, &str, &str)] = &[
    (
        "À la recherche du temps perdu. Du côté de chez Swann",
        "Marcel Proust",
        "843.912 PRO",
    ),
    ("Les Misérables", "Victor Hugo", "843.7 HUG"),
    ("L'Étranger", "Albert Camus", "843.914 CAM"),
    (
        "Madame Bovary : mœurs de province",
        "Gustave Flaubert",
        "843.8 FLA",
    ),
    ("Le Deuxième Sexe", "Simone de Beauvoir", "305.42 BEA"),
    ("Mémoires d'Hadrien", "Marguerite Yourcenar", "843.912 YOU"),
    ("Germinal", "Émile Zola", "843.8 ZOL"),
    ("Les Fleurs du mal", "Charles Baudelaire", "841.8 BAU"),
    ("Essais, livre I", "Michel de Montaigne", "844.3 MON"),
    ("De l'esprit des lois", "Montesquieu", "320.01 MON"),
    ("Tristes tropiques", "Claude Lévi-Strauss", "918.1 LEV"),
    (
        "Surveiller et punir : naissance de la prison",
        "Michel Foucault",
        "365 FOU",
    ),
    (
        "La Distinction : critique sociale du jugement",
        "Pierre Bourdieu",
        "306 BOU",
    ),
    ("Le Capital au XXIe siècle", "Thomas Piketty", "332.041 PIK"),
    ("L'Anomalie", "Hervé Le Tellier", "843.92 LET"),
    ("Cent ans de solitude", "Gabriel García Márquez", "863 GAR"),
    ("Le Maître et Marguerite", "Mikhaïl Boulgakov", "891.73 BOU"),
    ("Crime et Châtiment", "Fiodor Dostoïevski", "891.733 DOS"),
    ("Pan Tadeusz", "Adam Mickiewicz", "891.851 MIC"),
    ("Norwegian Wood", "Haruki Murakami", "895.63 MUR"),
    ("Things Fall Apart", "Chinua Achebe", "823.914 ACH"),
    ("Americanah", "Chimamanda Ngozi Adichie", "823.92 ADI"),
    (
        "The Structure of Scientific Revolutions",
        "Thomas S. Kuhn",
        "501 KUH",
    ),
    (
        "Gödel, Escher, Bach : les brins d'une guirlande éternelle",
        "Douglas Hofstadter",
        "510.1 HOF",
    ),
    (
        "Introduction to Algorithms, fourth edition",
        "Thomas H. Cormen; Charles E. Leiserson; Ronald L. Rivest; Clifford Stein",
        "005.1 COR",
    ),
    (
        "The Rust Programming Language",
        "Steve Klabnik; Carol Nichols",
        "005.133 KLA",
    ),
    (
        "Analyse : cours et exercices corrigés, licence 1re et 2e années",
        "Jean-Marie Monier",
        "515 MON",
    ),
    (
        "Physique : tout le cours en fiches",
        "Laurent Gautron",
        "530 GAU",
    ),
    (
        "Chimie organique : les grands principes",
        "John McMurry; Éric Simanek",
        "547 MCM",
    ),
    (
        "Biologie cellulaire et moléculaire",
        "Gerald Karp",
        "571.6 KAR",
    ),
    (
        "Anatomie humaine : descriptive, topographique et fonctionnelle. Tome 1, Membres",
        "Henri Rouvière; André Delmas",
        "611 ROU",
    ),
    (
        "Pharmacologie : des cibles vers l'indication thérapeutique",
        "Yves Landry; Jean-Pierre Gies",
        "615.1 LAN",
    ),
    (
        "Droit constitutionnel et institutions politiques",
        "Pierre Avril; Jean Gicquel",
        "342.44 AVR",
    ),
    ("Code civil", "", "346.44 COD"),
    ("Droit administratif général", "René Chapus", "342.44 CHA"),
    ("Histoire de Bordeaux", "", "944.71 HIS"),
    (
        "La Méditerranée et le monde méditerranéen à l'époque de Philippe II",
        "Fernand Braudel",
        "909.098 BRA",
    ),
    (
        "Les Structures élémentaires de la parenté",
        "Claude Lévi-Strauss",
        "306.83 LEV",
    ),
    ("Le Petit Prince", "Antoine de Saint-Exupéry", "843.912 SAI"),
    (
        "Œuvres complètes (Bibliothèque de la Pléiade)",
        "Arthur Rimbaud",
        "841.8 RIM",
    ),
    (
        "Vingt mille lieues sous les mers",
        "Jules Verne",
        "843.8 VER",
    ),
    (
        "Le Rouge et le Noir : chronique de 1830",
        "Stendhal",
        "843.7 STE",
    ),
    ("Bel-Ami", "Guy de Maupassant", "843.8 MAU"),
    ("La Peste", "Albert Camus", "843.914 CAM"),
    (
        "L'Ingénieux Hidalgo Don Quichotte de la Manche",
        "Miguel de Cervantes",
        "863.3 CER",
    ),
    ("Die Verwandlung", "Franz Kafka", "833.912 KAF"),
    (
        "Faust : eine Tragödie",
        "Johann Wolfgang von Goethe",
        "832.6 GOE",
    ),
    ("Il nome della rosa", "Umberto Eco", "853.914 ECO"),
    (
        "Sapiens : une brève histoire de l'humanité",
        "Yuval Noah Harari",
        "909 HAR",
    ),
    ("Vernon Subutex 1", "Virginie Despentes", "843.92 DES"),
    ("Chanson douce", "Leïla Slimani", "843.92 SLI"),
    ("L'Art de la guerre", "Sun Tzu", "355.02 SUN"),
    ("Truyện Kiều", "Nguyễn Du", "895.922 NGU"),
    ("La Ferme africaine", "Karen Blixen", "839.8 BLI"),
    (
        "Statistique et probabilités : cours et exercices corrigés",
        "Jean-Pierre Lecoutre",
        "519.5 LEC",
    ),
    (
        "Microéconomie",
        "Robert S. Pindyck; Daniel L. Rubinfeld",
        "338.5 PIN",
    ),
    (
        "Calcul différentiel et équations différentielles : cours et exercices corrigés",
        "Sylvie Benzoni-Gavage",
        "515.35 BEN",
    ),
    (
        "Histoire de la folie à l'âge classique",
        "Michel Foucault",
        "362.2 FOU",
    ),
    ("Les Trois Mousquetaires", "Alexandre Dumas", "843.7 DUM"),
    (
        "Le Horla et autres contes fantastiques",
        "Guy de Maupassant",
        "843.8 MAU",
    ),
];

/// Code, name, street, postcode and town of the libraries written out by hand;
/// the first four are the default sample.
pub const LIBRARIES: &[(&str, &str, &str, &str)] = &[
    (
        "STS",
        "Bibliothèque Sciences et techniques",
        "Allée Baudour",
        "33400 Talence",
    ),
    (
        "DSP",
        "Bibliothèque Droit et Science politique",
        "Avenue Léon-Duguit",
        "33600 Pessac",
    ),
    (
        "LSH",
        "Bibliothèque Lettres et Sciences humaines",
        "Esplanade des Antilles",
        "33600 Pessac",
    ),
    (
        "SAN",
        "Bibliothèque Santé Carreire",
        "146 rue Léo-Saignat",
        "33000 Bordeaux",
    ),
    (
        "ECO",
        "Bibliothèque Économie et Gestion",
        "35 avenue Abadie",
        "33000 Bordeaux",
    ),
    (
        "STAPS",
        "Bibliothèque STAPS",
        "12 avenue Camille-Jullian",
        "33600 Pessac",
    ),
    (
        "INSPE",
        "Bibliothèque de l'INSPÉ",
        "160 avenue de Verdun",
        "33700 Mérignac",
    ),
    (
        "AGN",
        "Bibliothèque de l'IUT d'Agen",
        "Rue du Rooy",
        "47000 Agen",
    ),
    (
        "PGX",
        "Bibliothèque de l'IUT de Périgueux",
        "39 rue Paul-Mazy",
        "24000 Périgueux",
    ),
    (
        "BAY",
        "Bibliothèque de la Côte basque",
        "29 cours du Comte-de-Cabarrus",
        "64100 Bayonne",
    ),
];

/// Disciplines and sites combined into further libraries past the hand-written ones.
pub const DISCIPLINES: &[(&str, &str)] = &[
    ("MAT", "Mathématiques et Informatique"),
    ("GEO", "Géographie et Aménagement"),
    ("ART", "Arts et Archéologie"),
    ("LNG", "Langues et Civilisations"),
    ("PSY", "Psychologie"),
    ("ODO", "Odontologie"),
];

/// Sites of the combined libraries: code suffix, street, town.
pub const SITES: &[(&str, &str, &str)] = &[
    ("T", "351 cours de la Libération", "33400 Talence"),
    ("P", "Domaine universitaire", "33600 Pessac"),
    ("V", "3 ter place de la Victoire", "33000 Bordeaux"),
    ("C", "16 cours de la Marne", "33800 Bordeaux"),
    ("G", "Rue Pierre-Noailles", "33170 Gradignan"),
];
