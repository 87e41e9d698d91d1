#!/usr/bin/env python3
"""Ground-truth corpus for the SmolLM2 LoRA memorization fixture (stdlib only, seeded).

Generates realistic documents (support tickets, clinic notes, HR records, config files,
chat logs, email signatures) that carry coherent synthetic personal values: names,
name-derived emails, city-consistent phone numbers and postal addresses, dates of birth,
Luhn-valid card numbers with real IIN prefixes, mod-97-valid IBANs of the right length
(with valid national check digits where the country has them) and API keys in the
shapes real providers use.

    python corpus.py OUTDIR [--seed 1234]   # members.jsonl, heldout.jsonl, train.jsonl
    python corpus.py --check FILE [FILE..]   # validate every record's fields

Every value is synthetic; none belongs to a real person or a real account.
"""
import argparse
import datetime as dt
import json
import os
import random
import re
import string
import sys
import unicodedata

SENSITIVE = ("name", "email", "phone", "dob", "address", "card", "iban", "api_key")
INSERTION_COUNTS = (1, 2, 4, 8, 16, 32)
PER_COUNT = 20
HELDOUT = 240
KINDS = ("support_ticket", "clinic_note", "hr_record", "config", "chat_log", "email_signature")
REF_DATE = dt.date(2024, 9, 16)  # "today" for ages and document dates

# ---------------------------------------------------------------------------------------
# Names, written for this generator, grouped by culture.
FIRST = {
    "en": ["Oliver", "Amelia", "Harry", "Isla", "George", "Poppy", "Jack", "Grace", "Thomas", "Charlotte",
           "James", "Emily", "Daniel", "Hannah", "Matthew", "Sophie", "Ryan", "Megan", "Ethan", "Chloe",
           "Nathan", "Abigail", "Tyler", "Madison", "Brandon", "Kayla", "Lucas", "Zoe", "Declan", "Siobhan",
           "Ciaran", "Aoife", "Liam", "Niamh"],
    "de": ["Lukas", "Lea", "Jonas", "Marie", "Felix", "Anna", "Maximilian", "Sophia", "Tobias", "Katharina",
           "Jan", "Lena", "Florian", "Johanna", "Moritz", "Franziska"],
    "fr": ["Louis", "Camille", "Hugo", "Léa", "Mathis", "Chloé", "Théo", "Manon", "Antoine", "Juliette",
           "Baptiste", "Élodie", "Gaël", "Inès"],
    "es": ["Alejandro", "Lucía", "Pablo", "Carmen", "Javier", "Elena", "Diego", "Marta", "Sergio", "Paula",
           "Álvaro", "Nerea", "Íñigo", "Rocío"],
    "it": ["Francesco", "Giulia", "Matteo", "Chiara", "Lorenzo", "Francesca", "Andrea", "Martina", "Giovanni",
           "Sara", "Alessandro", "Federica"],
    "nl": ["Daan", "Sanne", "Bram", "Femke", "Joris", "Lotte", "Thijs", "Anouk", "Sem", "Eline", "Ruben", "Maud"],
    "pt": ["João", "Beatriz", "Tiago", "Inês", "Rodrigo", "Mariana", "Gonçalo", "Leonor", "Duarte", "Catarina"],
    "pl": ["Kacper", "Zuzanna", "Mateusz", "Wiktoria", "Jakub", "Agnieszka", "Paweł", "Małgorzata"],
    "tr": ["Emre", "Elif", "Mehmet", "Zeynep", "Burak", "Ayşe", "Can", "Defne"],
    "ar": ["Omar", "Layla", "Youssef", "Fatima", "Karim", "Nour", "Hassan", "Amira", "Tariq", "Yasmin"],
    "in": ["Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Kavya", "Arjun", "Deepika", "Sanjay", "Meera",
           "Rahul", "Sneha"],
    "cn": ["Wei", "Jing", "Hao", "Mei", "Jun", "Yan", "Zhen", "Lei"],
    "jp": ["Haruto", "Yui", "Sota", "Aoi", "Kenji", "Sakura", "Takumi", "Yuki", "Ren", "Hina"],
    "kr": ["Minjun", "Seoyeon", "Jiho", "Haeun", "Hyunwoo", "Jisoo", "Dohyun", "Yuna"],
    "vn": ["Minh", "Linh", "Huy", "Thao", "Quang", "Ngoc"],
    "ng": ["Chinedu", "Adaeze", "Oluwaseun", "Ngozi", "Emeka", "Funmilayo", "Tunde", "Chiamaka", "Obinna",
           "Yetunde"],
    "ea": ["Kwame", "Ama", "Kofi", "Akosua", "Wanjiru", "Kamau", "Achieng", "Otieno"],
    "no": ["Erik", "Ingrid", "Lars", "Astrid", "Magnus", "Sigrid", "Nils", "Freja"],
    "gr": ["Nikos", "Eleni", "Dimitris", "Katerina", "Giorgos", "Sofia"],
    "ru": ["Dmitri", "Olena", "Sergei", "Natalia", "Andriy", "Yulia", "Ivan", "Oksana"],
    "fa": ["Dariush", "Shirin", "Reza", "Parisa", "Arash", "Leila"],
    "ph": ["Paolo", "Maricel", "Jericho", "Kristine", "Rommel", "Jasmine"],
}
LAST = {
    "en": ["Smith", "Thompson", "Walker", "Harrison", "Bennett", "Clarke", "Hughes", "Fletcher", "Whitaker",
           "Pemberton", "Ashworth", "Caldwell", "Sullivan", "Brennan", "Gallagher", "O'Connor", "Murphy",
           "Reynolds", "Foster", "Hayes", "Mitchell", "Parker", "Coleman", "Brooks", "Sinclair", "MacLeod",
           "Fraser", "Doyle", "Kavanagh", "Holloway"],
    "de": ["Müller", "Schneider", "Fischer", "Weber", "Becker", "Hoffmann", "Schäfer", "Koch", "Richter", "Wolf",
           "Neumann", "Zimmermann", "Krüger", "Hartmann", "Lange", "Brandt"],
    "fr": ["Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau", "Fontaine", "Chevalier", "Mercier",
           "Bonnet", "Lemoine", "Garnier", "Faure", "Barbier"],
    "es": ["García", "Fernández", "López", "Martínez", "Sánchez", "Romero", "Navarro", "Torres", "Domínguez",
           "Gil", "Herrera", "Castillo", "Ortega", "Iglesias"],
    "it": ["Rossi", "Bianchi", "Ferrari", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno",
           "Gallo", "Conti", "De Luca", "Mancini"],
    "nl": ["de Vries", "van den Berg", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos",
           "Vos", "Peters", "Hendriks", "van Leeuwen"],
    "pt": ["Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins", "Sousa",
           "Fernandes", "Gonçalves", "Carvalho"],
    "pl": ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński", "Szymański"],
    "tr": ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın", "Arslan"],
    "ar": ["Haddad", "Khalil", "Mansour", "Nasser", "Saleh", "El-Amin", "Farouk", "Hamdan", "Aziz", "Rahman"],
    "in": ["Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Menon", "Chatterjee", "Kapoor", "Desai", "Bose",
           "Malhotra"],
    "cn": ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Xu", "Zhou"],
    "jp": ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Nakamura", "Kobayashi", "Yamamoto",
           "Kato"],
    "kr": ["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Yoon", "Jang"],
    "vn": ["Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu"],
    "ng": ["Okafor", "Adeyemi", "Eze", "Okonkwo", "Balogun", "Nwosu", "Adebayo", "Obi", "Chukwu", "Oyelaran"],
    "ea": ["Mensah", "Owusu", "Asante", "Boateng", "Mwangi", "Odhiambo", "Kiprono", "Njoroge"],
    "no": ["Johansson", "Lindqvist", "Andersen", "Nielsen", "Halvorsen", "Berg", "Eriksson", "Dahl"],
    "gr": ["Papadopoulos", "Georgiou", "Nikolaidis", "Konstantinou", "Alexiou", "Christodoulou"],
    "ru": ["Ivanov", "Petrenko", "Kovalenko", "Shevchenko", "Volkov", "Bondarenko", "Melnyk", "Sokolov"],
    "fa": ["Hosseini", "Rahimi", "Karimi", "Moradi", "Tehrani", "Jafari"],
    "ph": ["Reyes", "Cruz", "Bautista", "Villanueva", "Mendoza", "Dela Cruz", "Aquino"],
}
CULTURES = sorted(FIRST)
LOCAL_CULTURES = {
    "GB": ["en", "in", "ng", "pl", "ea"], "US": ["en", "es", "cn", "in", "kr", "ph"],
    "DE": ["de", "tr", "pl", "ru"], "FR": ["fr", "ar", "vn"], "ES": ["es", "ar"], "NL": ["nl", "tr", "ar"],
    "IT": ["it", "ru"], "PT": ["pt"], "AU": ["en", "cn", "gr", "vn"], "CA": ["en", "fr", "cn", "in"],
    "IE": ["en", "pl", "ng"],
}

# ---------------------------------------------------------------------------------------
# Places. Area codes, postcode ranges and street names match the city.
def _uk_pc(districts):
    inward = "ABDEFGHJLNPQRSTUWXYZ"
    return lambda r: f"{r.choice(districts)} {r.randint(1, 9)}{r.choice(inward)}{r.choice(inward)}"


def _range_pc(lo, hi, width=5, step=1):
    return lambda r: str(r.randrange(lo, hi + 1, step)).zfill(width)


def _choice_pc(codes):
    return lambda r: r.choice(codes)


def _nl_pc(lo, hi):
    letters = "ABCDEGHJKLMNPRTVWXZ"
    return lambda r: f"{r.randint(lo, hi)} {r.choice(letters)}{r.choice(letters)}"


def _ca_pc(fsas):
    L = "ABCEGHJKLMNPRSTVWXYZ"
    return lambda r: f"{r.choice(fsas)} {r.randint(0, 9)}{r.choice(L)}{r.randint(0, 9)}"


def _pt_pc(lo, hi):
    return lambda r: f"{r.randint(lo, hi)}-{r.randint(0, 999):03d}"


def _ie_pc(district):
    A = "ACDEFHKNPRTVWXY0123456789"
    return lambda r: f"{district(r)} {''.join(r.choice(A) for _ in range(4))}"


CITIES = [
    # city, country, landline area code(s) with subscriber length, postcode generator, streets, extra
    dict(city="London", cc="GB", areas=[("20", 8, "378")], pc=_uk_pc(["SW1A", "EC1V", "N1", "E2", "SE1", "NW3",
         "W2", "WC2H", "SW11", "E14", "N16", "SE15"]), streets=["Upper Street", "Brick Lane", "Kingsland Road",
         "Old Kent Road", "Marylebone High Street", "Camden Road", "Lavender Hill", "Mare Street",
         "Essex Road", "Westbourne Grove"]),
    dict(city="Manchester", cc="GB", areas=[("161", 7, "2345789")], pc=_uk_pc(["M1", "M4", "M13", "M14", "M15",
         "M20", "M21"]), streets=["Oxford Road", "Deansgate", "Wilmslow Road", "Princess Street",
         "Burton Road", "Great Ancoats Street", "Barlow Moor Road"]),
    dict(city="Birmingham", cc="GB", areas=[("121", 7, "2345789")], pc=_uk_pc(["B1", "B5", "B13", "B15", "B29",
         "B30"]), streets=["Bristol Road", "Hagley Road", "Broad Street", "Moseley Road", "Alcester Road"]),
    dict(city="Edinburgh", cc="GB", areas=[("131", 7, "2345"), ], pc=_uk_pc(["EH1", "EH3", "EH6", "EH7", "EH9",
         "EH10"]), streets=["Leith Walk", "Morningside Road", "Dalry Road", "Broughton Street", "Easter Road"]),
    dict(city="Glasgow", cc="GB", areas=[("141", 7, "2345")], pc=_uk_pc(["G1", "G3", "G11", "G12", "G41", "G42"]),
         streets=["Byres Road", "Sauchiehall Street", "Duke Street", "Pollokshaws Road", "Great Western Road"]),
    dict(city="New York", cc="US", state="NY", areas=[("212", 7, ""), ("646", 7, ""), ("917", 7, "")],
         pc=_choice_pc(["10001", "10003", "10011", "10014", "10016", "10019", "10024", "10025", "10028",
                        "10031", "10038"]),
         streets=["W 54th St", "E 14th St", "Amsterdam Ave", "Lexington Ave", "Broadway", "Riverside Dr",
                  "W 86th St", "2nd Ave", "Bleecker St"]),
    dict(city="San Francisco", cc="US", state="CA", areas=[("415", 7, ""), ("628", 7, "")],
         pc=_choice_pc(["94102", "94103", "94107", "94110", "94114", "94117", "94118", "94122", "94131"]),
         streets=["Valencia St", "Mission St", "Divisadero St", "Irving St", "Folsom St", "Haight St",
                  "Clement St", "24th St"]),
    dict(city="Chicago", cc="US", state="IL", areas=[("312", 7, ""), ("773", 7, ""), ("872", 7, "")],
         pc=_choice_pc(["60601", "60605", "60607", "60610", "60614", "60618", "60622", "60640", "60657"]),
         streets=["N Clark St", "W Division St", "N Milwaukee Ave", "S Michigan Ave", "W Belmont Ave",
                  "N Damen Ave", "W Armitage Ave"]),
    dict(city="Boston", cc="US", state="MA", areas=[("617", 7, ""), ("857", 7, "")],
         pc=_choice_pc(["02108", "02114", "02115", "02116", "02118", "02127", "02130", "02134"]),
         streets=["Boylston St", "Tremont St", "Commonwealth Ave", "Centre St", "Dorchester Ave", "Beacon St"]),
    dict(city="Seattle", cc="US", state="WA", areas=[("206", 7, "")],
         pc=_choice_pc(["98101", "98102", "98103", "98105", "98107", "98109", "98115", "98122"]),
         streets=["Pine St", "NE 45th St", "Fremont Ave N", "Market St NW", "E Madison St", "Rainier Ave S"]),
    dict(city="Austin", cc="US", state="TX", areas=[("512", 7, ""), ("737", 7, "")],
         pc=_choice_pc(["78701", "78702", "78704", "78705", "78723", "78745", "78751", "78757"]),
         streets=["S Congress Ave", "E Cesar Chavez St", "Guadalupe St", "Burnet Rd", "S Lamar Blvd",
                  "Manor Rd"]),
    dict(city="Berlin", cc="DE", areas=[("30", 8, "2345689")], pc=_range_pc(10115, 14199),
         streets=["Torstraße", "Kastanienallee", "Sonnenallee", "Schönhauser Allee", "Karl-Marx-Straße",
                  "Bergmannstraße", "Warschauer Straße", "Kantstraße", "Boxhagener Straße"]),
    dict(city="München", cc="DE", areas=[("89", 8, "1234567")], pc=_range_pc(80331, 81929),
         streets=["Leopoldstraße", "Sendlinger Straße", "Rosenheimer Straße", "Schellingstraße",
                  "Lindwurmstraße", "Nymphenburger Straße", "Wörthstraße"]),
    dict(city="Hamburg", cc="DE", areas=[("40", 8, "234567")], pc=_range_pc(20095, 22769),
         streets=["Eppendorfer Weg", "Osterstraße", "Mühlenkamp", "Lange Reihe", "Schulterblatt",
                  "Bahrenfelder Straße", "Wandsbeker Chaussee"]),
    dict(city="Frankfurt am Main", cc="DE", areas=[("69", 8, "234579")], pc=_range_pc(60306, 60599),
         streets=["Berger Straße", "Leipziger Straße", "Schweizer Straße", "Mainzer Landstraße",
                  "Eckenheimer Landstraße"]),
    dict(city="Köln", cc="DE", areas=[("221", 7, "2345689")], pc=_range_pc(50667, 51149),
         streets=["Aachener Straße", "Venloer Straße", "Zülpicher Straße", "Severinstraße", "Neusser Straße"]),
    dict(city="Paris", cc="FR", areas=[("1", 8, "4")], pc=lambda r: f"750{r.randint(1, 20):02d}",
         streets=["rue Oberkampf", "rue de Rivoli", "boulevard Voltaire", "rue du Faubourg Saint-Denis",
                  "avenue de la République", "rue des Martyrs", "rue de Charonne", "rue Caulaincourt"]),
    dict(city="Lyon", cc="FR", areas=[("4", 8, "7")], pc=lambda r: f"6900{r.randint(1, 9)}",
         streets=["rue de la République", "cours Gambetta", "rue Paul Bert", "montée de la Grande Côte",
                  "avenue Jean Jaurès", "rue Saint-Jean"]),
    dict(city="Marseille", cc="FR", areas=[("4", 8, "9")], pc=lambda r: f"130{r.randint(1, 16):02d}",
         streets=["boulevard Longchamp", "rue Paradis", "cours Julien", "avenue du Prado", "rue de Rome"]),
    dict(city="Toulouse", cc="FR", areas=[("5", 8, "6")], pc=_choice_pc(["31000", "31200", "31300", "31400",
         "31500"]), streets=["rue d'Alsace-Lorraine", "allée Jean Jaurès", "rue de Metz", "avenue de Muret"]),
    dict(city="Bordeaux", cc="FR", areas=[("5", 8, "5")], pc=_choice_pc(["33000", "33100", "33200", "33300",
         "33800"]), streets=["cours de l'Intendance", "rue Sainte-Catherine", "cours Victor Hugo",
                              "quai des Chartrons"]),
    dict(city="Madrid", cc="ES", areas=[("91", 7, "1234567")], pc=lambda r: f"280{r.randint(1, 55):02d}",
         streets=["Calle de Alcalá", "Calle Mayor", "Calle de Fuencarral", "Paseo de las Delicias",
                  "Calle de Toledo", "Calle de Serrano", "Calle de Embajadores"]),
    dict(city="Barcelona", cc="ES", areas=[("93", 7, "1234")], pc=lambda r: f"080{r.randint(1, 42):02d}",
         streets=["Carrer de Mallorca", "Carrer de Verdi", "Gran Via de les Corts Catalanes",
                  "Carrer de Sants", "Passeig de Sant Joan", "Carrer del Consell de Cent"]),
    dict(city="Valencia", cc="ES", areas=[("96", 7, "1345")], pc=lambda r: f"460{r.randint(1, 26):02d}",
         streets=["Calle de Colón", "Avenida del Puerto", "Calle de Cuba", "Gran Vía Marqués del Turia"]),
    dict(city="Sevilla", cc="ES", areas=[("954", 6, "123456"), ("955", 6, "1234")],
         pc=lambda r: f"410{r.randint(1, 20):02d}",
         streets=["Calle Feria", "Avenida de la Constitución", "Calle Betis", "Calle Sierpes"]),
    dict(city="Amsterdam", cc="NL", areas=[("20", 7, "2345678")], pc=_nl_pc(1011, 1109),
         streets=["Prinsengracht", "Keizersgracht", "Ferdinand Bolstraat", "Javastraat", "Overtoom",
                  "Haarlemmerdijk", "Linnaeusstraat", "Bilderdijkstraat"]),
    dict(city="Rotterdam", cc="NL", areas=[("10", 7, "2345")], pc=_nl_pc(3011, 3089),
         streets=["Witte de Withstraat", "Nieuwe Binnenweg", "Zwart Janstraat", "Goudsesingel",
                  "Beijerlandselaan"]),
    dict(city="Utrecht", cc="NL", areas=[("30", 7, "2")], pc=_nl_pc(3511, 3585),
         streets=["Oudegracht", "Biltstraat", "Amsterdamsestraatweg", "Twijnstraat", "Kanaalstraat"]),
    dict(city="Den Haag", cc="NL", areas=[("70", 7, "3")], pc=_nl_pc(2491, 2597),
         streets=["Frederik Hendriklaan", "Prinsestraat", "Laan van Meerdervoort", "Weimarstraat"]),
    dict(city="Roma", cc="IT", areas=[("06", 8, "3456789")], pc=_range_pc(118, 199),
         streets=["Via del Pigneto", "Via Nazionale", "Viale Trastevere", "Via Appia Nuova",
                  "Via dei Serpenti", "Via Tuscolana"], prov="RM"),
    dict(city="Milano", cc="IT", areas=[("02", 8, "3456789")], pc=_range_pc(20121, 20162),
         streets=["Corso Buenos Aires", "Via Paolo Sarpi", "Viale Monza", "Corso di Porta Ticinese",
                  "Via Padova", "Via Tortona"], prov="MI"),
    dict(city="Torino", cc="IT", areas=[("011", 7, "3456789")], pc=_range_pc(10121, 10156),
         streets=["Via Po", "Corso Vittorio Emanuele II", "Via Nizza", "Via Garibaldi"], prov="TO"),
    dict(city="Napoli", cc="IT", areas=[("081", 7, "2345")], pc=_range_pc(80121, 80147),
         streets=["Via Toledo", "Via dei Tribunali", "Corso Umberto I", "Via Chiaia"], prov="NA"),
    dict(city="Lisboa", cc="PT", areas=[("21", 7, "0123456789")], pc=_pt_pc(1000, 1998),
         streets=["Rua Augusta", "Avenida da Liberdade", "Rua da Rosa", "Rua de São Bento",
                  "Avenida Almirante Reis", "Rua Morais Soares"]),
    dict(city="Porto", cc="PT", areas=[("22", 7, "0123456789")], pc=_pt_pc(4000, 4369),
         streets=["Rua de Santa Catarina", "Rua das Flores", "Avenida da Boavista", "Rua de Cedofeita"]),
    dict(city="Sydney", cc="AU", state="NSW", areas=[("2", 8, "89")],
         suburbs=[("Surry Hills", "2010"), ("Newtown", "2042"), ("Bondi", "2026"), ("Parramatta", "2150"),
                  ("Chatswood", "2067"), ("Marrickville", "2204"), ("Glebe", "2037")],
         streets=["Crown Street", "King Street", "Campbell Parade", "Church Street", "Victoria Avenue",
                  "Glebe Point Road"]),
    dict(city="Melbourne", cc="AU", state="VIC", areas=[("3", 8, "89")],
         suburbs=[("Fitzroy", "3065"), ("Brunswick", "3056"), ("St Kilda", "3182"), ("Richmond", "3121"),
                  ("Carlton", "3053"), ("Footscray", "3011")],
         streets=["Brunswick Street", "Sydney Road", "Acland Street", "Swan Street", "Lygon Street",
                  "Barkly Street"]),
    dict(city="Brisbane", cc="AU", state="QLD", areas=[("7", 8, "3")],
         suburbs=[("Fortitude Valley", "4006"), ("West End", "4101"), ("Paddington", "4064"),
                  ("New Farm", "4005")],
         streets=["Brunswick Street", "Boundary Street", "Given Terrace", "Merthyr Road"]),
    dict(city="Toronto", cc="CA", state="ON", areas=[("416", 7, ""), ("647", 7, ""), ("437", 7, "")],
         pc=_ca_pc(["M4C", "M5A", "M5V", "M6G", "M6J", "M6K", "M4M"]),
         streets=["Queen St W", "Dundas St W", "Danforth Ave", "Ossington Ave", "Bloor St W", "College St"]),
    dict(city="Vancouver", cc="CA", state="BC", areas=[("604", 7, ""), ("778", 7, "")],
         pc=_ca_pc(["V5K", "V5L", "V5N", "V6B", "V6K", "V6J"]),
         streets=["Commercial Dr", "Main St", "W 4th Ave", "Davie St", "Kingsway", "Fraser St"]),
    dict(city="Dublin", cc="IE", areas=[("1", 7, "2345689")],
         pc=_ie_pc(lambda r: r.choice(["D02", "D04", "D06", "D07", "D08", "D09"])),
         streets=["Camden Street", "Rathmines Road", "Phibsborough Road", "Thomas Street", "Baggot Street",
                  "Manor Street"]),
]
COUNTRY_NAME = {"GB": "United Kingdom", "US": "USA", "DE": "Germany", "FR": "France", "ES": "Spain",
                "NL": "Netherlands", "IT": "Italy", "PT": "Portugal", "AU": "Australia", "CA": "Canada",
                "IE": "Ireland"}
CALLING = {"GB": "44", "US": "1", "CA": "1", "DE": "49", "FR": "33", "ES": "34", "NL": "31", "IT": "39",
           "PT": "351", "AU": "61", "IE": "353"}
IBAN_COUNTRIES = {"DE", "GB", "FR", "ES", "NL", "IT", "PT", "IE"}
CURRENCY = {"GB": "£", "US": "$", "CA": "CA$", "AU": "A$", "IE": "€", "DE": "€", "FR": "€", "ES": "€",
            "NL": "€", "IT": "€", "PT": "€"}

FREEMAIL = {
    "US": ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "comcast.net", "proton.me"],
    "GB": ["gmail.com", "btinternet.com", "hotmail.co.uk", "yahoo.co.uk", "sky.com", "outlook.com"],
    "DE": ["gmx.de", "web.de", "t-online.de", "gmail.com", "posteo.de", "gmx.net"],
    "FR": ["orange.fr", "free.fr", "laposte.net", "gmail.com", "sfr.fr", "hotmail.fr"],
    "ES": ["gmail.com", "hotmail.es", "yahoo.es", "telefonica.net", "outlook.es"],
    "NL": ["ziggo.nl", "kpnmail.nl", "gmail.com", "hotmail.nl", "xs4all.nl"],
    "IT": ["libero.it", "gmail.com", "virgilio.it", "tiscali.it", "alice.it"],
    "PT": ["sapo.pt", "gmail.com", "hotmail.com", "outlook.pt"],
    "AU": ["bigpond.com", "gmail.com", "optusnet.com.au", "outlook.com"],
    "CA": ["gmail.com", "rogers.com", "shaw.ca", "sympatico.ca"],
    "IE": ["eircom.net", "gmail.com", "outlook.ie"],
}

# Fictional employers (name, domain, country).
COMPANIES = [
    ("Brightwater Logistics", "brightwater-logistics.com", "US"), ("Kestrel Health", "kestrelhealth.com", "US"),
    ("Vantora Systems", "vantora.io", "US"), ("Copperleaf Studios", "copperleafstudios.com", "US"),
    ("Meridian Freight", "meridianfreight.com", "US"), ("Quillon Software", "quillon.dev", "US"),
    ("Red Kite Robotics", "redkiterobotics.com", "US"), ("Hollis Biotech", "hollisbio.com", "US"),
    ("Tidewater Credit Union", "tidewatercu.org", "US"), ("Kumo Labs", "kumolabs.ai", "US"),
    ("Halden & Moore LLP", "haldenmoore.co.uk", "GB"), ("Bluebell Dental Group", "bluebelldental.co.uk", "GB"),
    ("Ashgrove Housing Trust", "ashgrovehousing.org.uk", "GB"), ("Penrose Analytics", "penrose-analytics.co.uk", "GB"),
    ("Lindqvist Maschinenbau GmbH", "lindqvist-maschinenbau.de", "DE"), ("Ostwind Energie AG", "ostwind-energie.de", "DE"),
    ("Nordhafen Logistik GmbH", "nordhafen-logistik.de", "DE"), ("Kranich Software GmbH", "kranich-software.de", "DE"),
    ("Atelier Morel", "atelier-morel.fr", "FR"), ("Saint-Clair Conseil", "saintclair-conseil.fr", "FR"),
    ("Rhône Mobilité", "rhone-mobilite.fr", "FR"), ("Grupo Alcázar", "grupoalcazar.es", "ES"),
    ("Castellana Asesores", "castellana-asesores.es", "ES"), ("Mediterránea Solar", "mediterraneasolar.es", "ES"),
    ("Van Dijk Installatietechniek", "vandijk-installatie.nl", "NL"), ("Zuidas Capital", "zuidascapital.nl", "NL"),
    ("Grachtenhuis Media", "grachtenhuismedia.nl", "NL"), ("Ferraresi Componenti S.r.l.", "ferraresi.it", "IT"),
    ("Studio Benedetti", "studiobenedetti.it", "IT"), ("Tejo Digital", "tejodigital.pt", "PT"),
    ("Ribeira Têxteis", "ribeiratexteis.pt", "PT"), ("Harbourline Insurance", "harbourline.com.au", "AU"),
    ("Wattle & Gum Design", "wattleandgum.com.au", "AU"), ("Maple & Finch Bakery", "mapleandfinch.ca", "CA"),
    ("Northshore Dental", "northshoredental.ca", "CA"), ("Liffey Data", "liffeydata.ie", "IE"),
]

# ---------------------------------------------------------------------------------------
# Checksums and value generators.
def luhn_ok(digits):
    s, alt = 0, False
    for ch in reversed(digits):
        d = int(ch)
        if alt:
            d *= 2
            if d > 9:
                d -= 9
        s += d
        alt = not alt
    return s % 10 == 0


def luhn_complete(partial):
    for d in "0123456789":
        if luhn_ok(partial + d):
            return partial + d
    raise AssertionError


IBAN_LEN = {"DE": 22, "GB": 22, "FR": 27, "ES": 24, "NL": 18, "IT": 27, "PT": 25, "IE": 22, "BE": 16,
            "AT": 20, "CH": 21, "LU": 20, "PL": 28, "DK": 18, "SE": 24, "NO": 15, "FI": 18}


def _iban_num(s):
    return int("".join(str(int(c, 36)) for c in s))


def iban_with_check(cc, bban):
    check = 98 - _iban_num(bban + cc + "00") % 97
    return f"{cc}{check:02d}{bban}"


def iban_ok(iban):
    s = iban.replace(" ", "")
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+", s):
        return False
    if IBAN_LEN.get(s[:2]) != len(s):
        return False
    return _iban_num(s[4:] + s[:4]) % 97 == 1


def fr_rib_key(bank, branch, account):
    return 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97


def es_dc(bank, branch, account):
    w = [1, 2, 4, 8, 5, 10, 9, 7, 3, 6]

    def dc(ten):
        v = 11 - sum(int(a) * b for a, b in zip(ten, w)) % 11
        return {11: 0, 10: 1}.get(v, v)
    return f"{dc('00' + bank + branch)}{dc(account)}"


IT_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]


def it_cin(abi, cab, conto):
    s = 0
    for i, ch in enumerate(abi + cab + conto):
        k = int(ch) if ch.isdigit() else ord(ch) - 65
        s += IT_ODD[k] if i % 2 == 0 else k
    return chr(65 + s % 26)


def pt_nib(bank, branch, account):
    return f"{98 - int(bank + branch + account) * 100 % 97:02d}"


def nl_elfproef(acc):
    return sum(int(d) * (10 - i) for i, d in enumerate(acc)) % 11 == 0


DE_BLZ = {"Berlin": ["10050000", "10070000", "10010010", "12030000", "10090000"],
          "München": ["70150000", "70070010", "70020270", "70190000"],
          "Hamburg": ["20050550", "20070000", "20010020", "20040000"],
          "Frankfurt am Main": ["50050201", "50070010", "50040000", "50010517"],
          "Köln": ["37050198", "37070060", "37040044", "37060193"]}
GB_BANKS = [("NWBK", "60"), ("BARC", "20"), ("LOYD", "30"), ("MIDL", "40"), ("HBUK", "40"), ("NAIA", "07")]
FR_BANKS = ["30004", "30003", "30002", "20041", "10278", "30066", "10107"]
ES_BANKS = ["2100", "0049", "0182", "0081", "1465", "2085"]
NL_BANKS = ["ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB", "KNAB"]
IT_ABI = ["03069", "02008", "05034", "01030", "03062", "05387"]
PT_BANKS = ["0035", "0033", "0007", "0010", "0036"]
IE_BANKS = [("AIBK", "93"), ("BOFI", "90"), ("IPBS", "99")]


def gen_iban(r, city):
    cc = city["cc"]
    dg = lambda n: "".join(r.choice(string.digits) for _ in range(n))
    if cc == "DE":
        bban = r.choice(DE_BLZ[city["city"]]) + dg(10)
    elif cc == "GB":
        bank, sc = r.choice(GB_BANKS)
        bban = bank + sc + dg(4) + dg(8)
    elif cc == "FR":
        bank, branch, acc = r.choice(FR_BANKS), dg(5), dg(11)
        bban = bank + branch + acc + f"{fr_rib_key(bank, branch, acc):02d}"
    elif cc == "ES":
        bank, branch, acc = r.choice(ES_BANKS), dg(4), dg(10)
        bban = bank + branch + es_dc(bank, branch, acc) + acc
    elif cc == "NL":
        bank = r.choice(NL_BANKS)
        while True:
            acc = str(r.randint(1, 9)) + dg(9)
            if bank in ("INGB", "KNAB") or nl_elfproef(acc):
                break
        bban = bank + acc
    elif cc == "IT":
        abi, cab, conto = r.choice(IT_ABI), dg(5), dg(12)
        bban = it_cin(abi, cab, conto) + abi + cab + conto
    elif cc == "PT":
        bank, branch, acc = r.choice(PT_BANKS), dg(4), dg(11)
        bban = bank + branch + acc + pt_nib(bank, branch, acc)
    elif cc == "IE":
        bank, sc = r.choice(IE_BANKS)
        bban = bank + sc + dg(4) + dg(8)
    else:
        raise ValueError(cc)
    iban = iban_with_check(cc, bban)
    assert iban_ok(iban), iban
    if r.random() < 0.7:  # paper format in groups of four
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


VISA_IIN = ["4532", "4539", "4556", "4716", "4929", "4485", "4024", "4916", "4263", "4147"]
MC_IIN = ["51", "52", "53", "54", "55", "2221", "2223", "2296", "2452", "2510", "2637", "2720"]
AMEX_IIN = ["34", "37"]


def gen_card(r):
    brand = r.choices(["visa", "mc", "amex"], weights=[5, 4, 1])[0]
    if brand == "amex":
        pre, n = r.choice(AMEX_IIN), 15
    else:
        pre, n = (r.choice(VISA_IIN) if brand == "visa" else r.choice(MC_IIN)), 16
    body = pre + "".join(r.choice(string.digits) for _ in range(n - len(pre) - 1))
    num = luhn_complete(body)
    style = r.choice(["space", "space", "dash", "plain"])
    if style == "plain":
        return num, brand
    sep = " " if style == "space" else "-"
    groups = [num[:4], num[4:10], num[10:]] if n == 15 else [num[i:i + 4] for i in range(0, 16, 4)]
    return sep.join(groups), brand


B32 = string.ascii_uppercase + "234567"
ALNUM = string.ascii_letters + string.digits


def gen_api_key(r, kind):
    if kind == "aws":
        return "AKIA" + "".join(r.choice(B32) for _ in range(16))
    if kind == "github":
        return "ghp_" + "".join(r.choice(ALNUM) for _ in range(36))
    if kind == "stripe":
        return "sk_live_" + "".join(r.choice(ALNUM) for _ in range(24))
    if kind == "slack":
        return "xoxb-%d-%d-%s" % (r.randint(10 ** 10, 10 ** 12), r.randint(10 ** 11, 10 ** 13),
                                  "".join(r.choice(ALNUM) for _ in range(24)))
    if kind == "google":
        return "AIza" + "".join(r.choice(ALNUM + "-_") for _ in range(35))
    raise ValueError(kind)


KEY_VAR = {"aws": "AWS_ACCESS_KEY_ID", "github": "GITHUB_TOKEN", "stripe": "STRIPE_SECRET_KEY",
           "slack": "SLACK_BOT_TOKEN", "google": "GOOGLE_MAPS_API_KEY"}
API_KEY_RE = [r"AKIA[A-Z2-7]{16}", r"ghp_[A-Za-z0-9]{36}", r"sk_live_[A-Za-z0-9]{24}",
              r"xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24}", r"AIza[A-Za-z0-9_\-]{35}"]


def _digits(r, n, first=None):
    s = (r.choice(first) if first else r.choice(string.digits))
    return s + "".join(r.choice(string.digits) for _ in range(n - 1))


def gen_phone(r, city):
    """A landline in the city's area code (or, 1 time in 4, a national mobile), in a local format."""
    cc = city["cc"]
    mobile = r.random() < 0.25
    if cc in ("US", "CA"):
        area = r.choice(city["areas"])[0]
        while True:
            ex = _digits(r, 3, "23456789")
            if ex[1:] != "11" and ex != "555":
                break
        line = _digits(r, 4)
        return r.choice([f"({area}) {ex}-{line}", f"{area}-{ex}-{line}", f"+1 {area} {ex} {line}",
                         f"{area}.{ex}.{line}", f"+1 ({area}) {ex}-{line}"])
    if mobile:
        if cc == "GB":
            n = "7" + _digits(r, 9, "1345789")
            return r.choice([f"0{n[:4]} {n[4:]}", f"+44 {n[:4]} {n[4:]}", f"+44 (0){n[:4]} {n[4:]}"])
        if cc == "DE":
            pre = r.choice(["151", "160", "170", "171", "176", "157", "162"])
            n = _digits(r, 8 if pre != "176" else 8)
            return r.choice([f"0{pre} {n}", f"+49 {pre} {n}", f"0{pre}/{n}"])
        if cc == "FR":
            n = r.choice("67") + _digits(r, 8)
            g = f"{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:9]}"
            return r.choice([f"0{g}", f"+33 {g}"])
        if cc == "ES":
            n = r.choice("67") + _digits(r, 8)
            return r.choice([f"{n[:3]} {n[3:6]} {n[6:]}", f"+34 {n[:3]} {n[3:6]} {n[6:]}",
                             f"+34 {n[:3]} {n[3:5]} {n[5:7]} {n[7:]}"])
        if cc == "NL":
            n = _digits(r, 8, "1234")
            return r.choice([f"06 {n}", f"06-{n}", f"+31 6 {n}", f"+31 6 {n[:2]} {n[2:4]} {n[4:6]} {n[6:]}"])
        if cc == "IT":
            pre = r.choice(["320", "328", "333", "335", "339", "347", "348", "349", "366", "388"])
            n = _digits(r, 7)
            return r.choice([f"{pre} {n[:3]} {n[3:]}", f"+39 {pre} {n[:3]} {n[3:]}", f"+39 {pre} {n}"])
        if cc == "PT":
            n = r.choice(["91", "92", "93", "96"]) + _digits(r, 7)
            return r.choice([f"{n[:3]} {n[3:6]} {n[6:]}", f"+351 {n[:3]} {n[3:6]} {n[6:]}"])
        if cc == "AU":
            n = "4" + _digits(r, 8)
            return r.choice([f"0{n[:3]} {n[3:6]} {n[6:]}", f"+61 {n[:3]} {n[3:6]} {n[6:]}"])
        if cc == "IE":
            n = r.choice(["83", "85", "86", "87", "89"]) + _digits(r, 7)
            return r.choice([f"0{n[:2]} {n[2:5]} {n[5:]}", f"+353 {n[:2]} {n[2:5]} {n[5:]}"])
    area, sub_len, first = r.choice(city["areas"])
    sub = _digits(r, sub_len, first or None)
    if cc == "GB":
        if len(area) == 2:
            s = f"{sub[:4]} {sub[4:]}"
        else:
            s = f"{sub[:3]} {sub[3:]}"
        return r.choice([f"0{area} {s}", f"+44 {area} {s}", f"+44 (0){area} {s}"])
    if cc == "DE":
        return r.choice([f"0{area} {sub}", f"+49 {area} {sub}", f"+49 (0){area} {sub[:4]} {sub[4:]}",
                         f"0{area}/{sub}", f"+49 {area} {sub[:3]} {sub[3:]}"])
    if cc == "FR":
        pairs = " ".join(sub[i:i + 2] for i in range(0, 8, 2))
        return r.choice([f"0{area} {pairs}", f"+33 {area} {pairs}", f"+33 (0){area} {pairs}",
                         f"0{area}.{pairs.replace(' ', '.')}"])
    if cc == "ES":
        n = area + sub
        return r.choice([f"{n[:3]} {n[3:6]} {n[6:]}", f"+34 {n[:3]} {n[3:6]} {n[6:]}",
                         f"+34 {n[:2]} {n[2:5]} {n[5:7]} {n[7:]}" if len(area) == 2 else f"+34 {n}"])
    if cc == "NL":
        return r.choice([f"0{area} {sub[:3]} {sub[3:]}", f"0{area}-{sub}", f"+31 {area} {sub[:3]} {sub[3:]}",
                         f"+31 (0){area} {sub}"])
    if cc == "IT":
        return r.choice([f"{area} {sub}", f"+39 {area} {sub}", f"+39 {area} {sub[:4]} {sub[4:]}"
                         if len(sub) == 8 else f"+39 {area} {sub[:3]} {sub[3:]}"])
    if cc == "PT":
        n = area + sub
        return r.choice([f"{n[:3]} {n[3:6]} {n[6:]}", f"+351 {n[:3]} {n[3:6]} {n[6:]}",
                         f"+351 {n[:2]} {n[2:5]} {n[5:]}"])
    if cc == "AU":
        return r.choice([f"(0{area}) {sub[:4]} {sub[4:]}", f"0{area} {sub[:4]} {sub[4:]}",
                         f"+61 {area} {sub[:4]} {sub[4:]}"])
    if cc == "IE":
        return r.choice([f"(0{area}) {sub[:3]} {sub[3:]}", f"0{area} {sub[:3]} {sub[3:]}",
                         f"+353 {area} {sub[:3]} {sub[3:]}"])
    raise ValueError(cc)


def gen_address(r, city):
    cc, c = city["cc"], city["city"]
    street = r.choice(city["streets"])
    num = r.randint(1, 240)
    if cc == "GB":
        flat = f"Flat {r.randint(1, 24)}, " if r.random() < 0.3 else ""
        return f"{flat}{num} {street}, {c} {city['pc'](r)}"
    if cc in ("US", "CA"):
        unit = r.choice(["", "", f", Apt {r.randint(1, 30)}{r.choice('ABCDEF')}", f", Unit {r.randint(101, 2405)}"])
        return f"{r.randint(10, 3999)} {street}{unit}, {c}, {city['state']} {city['pc'](r)}"
    if cc == "DE":
        return f"{street} {num}{r.choice(['', '', '', 'a', 'b'])}, {city['pc'](r)} {c}"
    if cc == "FR":
        bis = r.choice(["", "", "", " bis"])
        apt = r.choice(["", "", f", Bât. {r.choice('ABC')}", f", {r.randint(1, 6)}e étage"])
        return f"{num}{bis} {street}{apt}, {city['pc'](r)} {c}"
    if cc == "ES":
        piso = r.choice(["", f", {r.randint(1, 8)}º {r.choice('ABCD')}", f", {r.randint(1, 6)}º {r.randint(1, 4)}ª"])
        return f"{street} {num}{piso}, {city['pc'](r)} {c}"
    if cc == "NL":
        return f"{street} {num}{r.choice(['', '', '-1', '-2', 'A', '-hs'])}, {city['pc'](r)} {c}"
    if cc == "IT":
        return f"{street} {num}, {city['pc'](r).zfill(5)} {c} {city['prov']}"
    if cc == "PT":
        andar = r.choice(["", f", {r.randint(1, 6)}.º Esq.", f", {r.randint(1, 6)}.º Dto."])
        return f"{street} {num}{andar}, {city['pc'](r)} {c}"
    if cc == "AU":
        sub, pc = r.choice(city["suburbs"])
        unit = f"Unit {r.randint(1, 30)}, " if r.random() < 0.3 else ""
        return f"{unit}{num} {street}, {sub} {city['state']} {pc}"
    if cc == "IE":
        pc = city["pc"](r)
        return f"{num} {street}, Dublin {int(pc[1:3])}, {pc}"
    raise ValueError(cc)


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def fmt_date(d, cc, style=None, r=None):
    if style == "iso":
        return d.isoformat()
    if cc == "US":
        opts = [f"{d.month:02d}/{d.day:02d}/{d.year}", f"{MONTHS[d.month - 1]} {d.day}, {d.year}"]
    elif cc in ("GB", "IE", "AU"):
        opts = [f"{d.day:02d}/{d.month:02d}/{d.year}", f"{d.day} {MONTHS[d.month - 1]} {d.year}",
                f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}"]
    elif cc == "DE":
        opts = [f"{d.day:02d}.{d.month:02d}.{d.year}"]
    elif cc == "NL":
        opts = [f"{d.day:02d}-{d.month:02d}-{d.year}"]
    elif cc == "CA":
        opts = [d.isoformat(), f"{MONTHS[d.month - 1]} {d.day}, {d.year}"]
    else:  # FR ES IT PT
        opts = [f"{d.day:02d}/{d.month:02d}/{d.year}"]
    return (r.choice(opts) if r else opts[0])


def ascii_fold(s):
    s = s.replace("ß", "ss").replace("ł", "l").replace("Ł", "L").replace("ı", "i").replace("ø", "o")
    s = unicodedata.normalize("NFKD", s)
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def email_local(r, first, last, birth_year):
    f = re.sub(r"[^a-z]", "", ascii_fold(first).lower())
    l = re.sub(r"[^a-z]", "", ascii_fold(last).lower())
    return r.choice([f"{f}.{l}", f"{f[0]}.{l}", f"{f}{l}", f"{f[0]}{l}{r.randint(2, 99)}", f"{f}_{l}",
                     f"{f}.{l}{birth_year % 100:02d}", f"{l}.{f}", f"{f}.{l[0]}", f"{f[0]}{l}",
                     f"{f}{r.randint(1, 9)}{r.randint(0, 9)}"])


# ---------------------------------------------------------------------------------------
# Filler pools for the documents.
PRODUCTS = ["Lumo Router X2", "Parcelio app", "TrailPeak smartwatch", "Quillon Cloud", "Brightbox broadband",
            "Kettlewise smart kettle", "Orbit Pay", "FlatMate lease portal", "Nimbus Drive", "CoreFit membership"]
ISSUES = [
    "I was charged twice for the same order and the second charge has not been reversed.",
    "The parcel was marked as delivered on Tuesday but nothing arrived at my door.",
    "I cannot log in since the password reset; the code never reaches my phone.",
    "My subscription renewed even though I cancelled it last month.",
    "The device keeps dropping the Wi-Fi connection every few hours.",
    "Your app shows the wrong billing address and won't let me edit it.",
    "I ordered the blue one and received the grey one, please swap it.",
    "The invoice lists a plan I never signed up for.",
    "My account was locked after I changed my phone number.",
    "The replacement part still hasn't shipped after three weeks.",
]
CASES = [  # (complaint, assessment, plan)
    ("Persistent dry cough for three weeks, worse at night.", "Post-viral cough.", "Honey and fluids, review if not settling."),
    ("Intermittent lower back pain after lifting.", "Mechanical back pain.", "Physiotherapy referral, ibuprofen 400 mg tds with food."),
    ("Headaches most mornings, no visual disturbance.", "Tension-type headache.", "Sleep hygiene advice, headache diary."),
    ("Itchy rash on both forearms since changing detergent.", "Contact dermatitis.", "Emollient and hydrocortisone 1% for 7 days."),
    ("Sore throat and mild fever for four days.", "Viral pharyngitis.", "Rest, fluids, paracetamol as needed."),
    ("Right knee swelling after a football match.", "Suspected meniscal injury.", "Ice, compression, MRI requested."),
    ("Follow-up of raised blood pressure readings.", "Stage 1 hypertension.", "Home BP monitoring, recheck bloods."),
    ("Heartburn after meals, partly relieved by antacids.", "Gastro-oesophageal reflux.", "Omeprazole 20 mg once daily for 4 weeks."),
    ("Annual asthma review, no night symptoms.", "Asthma, well controlled.", "Continue current inhaler, flu vaccine offered."),
    ("Burning on passing urine for two days.", "Uncomplicated lower UTI.", "Nitrofurantoin 100 mg bd for 3 days."),
]
ALLERGIES = ["none known", "penicillin (rash)", "latex", "peanuts", "sulfonamides", "none known"]
CLINICS = ["Riverside Family Practice", "St Aidan's Medical Centre", "Lakeview Clinic", "Parkside Health Centre",
           "Northgate Surgery", "Harbour Street Medical", "Willow Tree Practice", "Elm Road Clinic"]
DOCTORS = ["Okafor", "Lindqvist", "Haddad", "Moreau", "Patel", "Whitaker", "Kovalenko", "Sato", "Ferreira",
           "Brennan"]
ROLES = ["Senior Data Analyst", "Warehouse Supervisor", "Account Manager", "Backend Engineer", "HR Generalist",
         "Product Designer", "Financial Controller", "Customer Success Lead", "Site Reliability Engineer",
         "Marketing Coordinator", "Procurement Specialist", "Legal Counsel", "QA Engineer", "Office Manager"]
DEPTS = ["Finance", "Engineering", "Operations", "Sales", "People", "Marketing", "Legal", "Customer Support",
         "Logistics", "Product"]
AGENTS = ["Marta", "Kevin", "Aisha", "Tom", "Lucía", "Ben", "Priya", "Jonas", "Chloé", "Sam", "Dana", "Rui"]
SERVICES = ["billing-api", "checkout-web", "orders-worker", "notify-svc", "reporting", "auth-gateway",
            "inventory-sync", "payments-core", "search-indexer", "mobile-backend"]
REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2", "ca-central-1"]
TZS = {"GB": "Europe/London", "US": "America/New_York", "DE": "Europe/Berlin", "FR": "Europe/Paris",
       "ES": "Europe/Madrid", "NL": "Europe/Amsterdam", "IT": "Europe/Rome", "PT": "Europe/Lisbon",
       "AU": "Australia/Sydney", "CA": "America/Toronto", "IE": "Europe/Dublin"}
FRIENDS = ["Sam", "Jo", "Alex", "Max", "Kim", "Robin", "Charlie", "Nico", "Mika", "Ari"]

# ---------------------------------------------------------------------------------------
# Templates. {placeholders} in SENSITIVE become ground-truth fields. Options:
#   dob  = "iso" to force ISO dates, email = "work" | "personal", key = API key flavour(s)
T = lambda text, **opt: dict(text=text.strip("\n"), **opt)

TEMPLATES = {
    "support_ticket": [
        T("""
Ticket #{ticket} | Priority: {priority}
From: {name} <{email}>
{issue} The card on file is {card}.
""", email="personal"),
        T("""
[{product} Support] Case {ticket}
Requester: {name}
Contact: {email} / {phone}
Issue: {issue}
""", email="personal"),
        T("""
Subject: API returning 401
Reporter: {name} ({email})
Our integration broke at {time} UTC. The key we use is {api_key}, is it still active?
""", email="work", key=["stripe", "google", "github"]),
        T("""
Refund request #{ticket}
Customer: {name}, DOB {dob}
Please refund the duplicate charge of {amount} to IBAN {iban} instead of the card.
""", email="personal"),
        T("""
Web form - {product}
Name: {name}
Phone: {phone}
Date of birth: {dob}
Message: {issue}
""", email="personal"),
    ],
    "clinic_note": [
        T("""
{clinic}, {date}
Patient: {name}, DOB {dob}, tel. {phone}
S: {complaint}
A: {assessment} Dr. {doctor}
""", email="personal"),
        T("""
Dear Dr. {doctor},
Please see {name} (born {dob}) of {address}. {complaint}
Kind regards, {clinic}
""", email="personal"),
        T("""
{clinic} - new patient
Name: {name}
Date of birth: {dob}
Mobile: {phone}
Allergies: {allergy}
Self-pay card: {card}
""", email="personal"),
        T("""
DISCHARGE SUMMARY
{name} | DOB {dob} | MRN {mrn}
Diagnosis: {assessment}
Discharged home to {address}.
""", email="personal"),
        T("""
Billing query ({clinic}): {name} disputes invoice {invoice} for {amount}. The direct debit from {iban} failed twice. Send statements to {email}.
""", email="personal"),
    ],
    "hr_record": [
        T("""
EMPLOYEE RECORD - {company}
Name: {name}
Date of birth: {dob}
Email: {email}
Salary IBAN: {iban}
""", email="work"),
        T("""
Hi {first}, welcome to {company}! You start as {role} on {start}. Your account is {email}, and payroll will pay into {iban}.
People Team
""", email="work"),
        T("""
HR change request #{req}
Employee: {name} ({emp_id})
New phone: {phone}
New address: {address}
Approved by {manager}
""", email="work"),
        T("""
Exit checklist - {name}
Last day: {date}. Return laptop and badge. Final payslip goes to {address}.
Emergency contact: {phone}
""", email="personal"),
        T("""
- employee_id: {emp_id}
  name: "{name}"
  dob: {dob}
  email: {email}
  corporate_card: "{card}"
""", email="work", dob="iso"),
    ],
    "config": [
        T("""
# {service} production
ADMIN_NAME="{name}"
ADMIN_EMAIL={email}
STRIPE_SECRET_KEY={api_key}
LOG_LEVEL=info
""", email="work", key=["stripe"]),
        T("""
# deploy/{service}.yaml
owner:
  name: {name}
  pager: "{phone}"
github_token: {api_key}
""", email="work", key=["github"]),
        T("""
[general]
maintainer = {name} <{email}>

[aws]
region = {region}
aws_access_key_id = {api_key}
""", email="work", key=["aws"]),
        T("""
# slack bot config, do not commit!
bot_token: {api_key}
admin: {email}
payout_iban: "{iban}"
""", email="work", key=["slack"]),
        T("""
# ~/.env.local ({first}'s laptop)
export GIT_AUTHOR_NAME="{name}"
export GIT_AUTHOR_EMAIL={email}
export {key_var}={api_key}
""", email="personal", key=["google", "github", "stripe"]),
    ],
    "chat_log": [
        T("""
[{time}] {first}: can you send the deposit today?
[{time2}] {friend}: sure, IBAN?
[{time3}] {first}: {iban}, account name {name}
[{time4}] {friend}: done!
""", email="personal"),
        T("""
#{service}-dev
{handle}: anyone have the staging creds?
{handle2}: don't paste it anywhere: {api_key}
{handle}: thx. vendor contact is {name}, {email}
""", email="work", key=["aws", "slack", "github"]),
        T("""
Live chat - {product}
Agent: Can I have your full name and date of birth?
Customer: {name}, {dob}
Agent: And the card you'd like to use?
Customer: {card}
""", email="personal"),
        T("""
SMS with {name} ({phone})
> Hi, it's {first}. I moved! New address: {address}
< Noted, thanks.
""", email="personal"),
        T("""
{first} {initial}. ({time}): card declined again, it's {card}
{friend} ({time2}): don't post card numbers here! is {email} right for the receipt?
{first} {initial}. ({time3}): yes, invoice to {name}
""", email="personal"),
    ],
    "email_signature": [
        T("""
Thanks, and have a good weekend.

{name}
{role} | {company}
{address}
T: {phone}
E: {email}
""", email="work"),
        T("""
Best regards,
{name}
{role}, {company}
Tel.: {phone}
Mail: {email}
Confidential: if you received this in error, please delete it.
""", email="work"),
        T("""
Cheers,
{first}
--
{name} · {role}
{company} · {city}
{email}
Invoices: IBAN {iban}
""", email="work"),
        T("""
Kind regards,

{name}
{role}, {company}
Direct: {phone}
{email}
Please consider the environment before printing this email.
""", email="work"),
        T("""
{name} - Freelance {role}
{address}
{phone} | {email}
Payment within 14 days to IBAN {iban}. Thank you!
""", email="personal"),
    ],
}


def placeholders(text):
    return [f for _, f, _, _ in string.Formatter().parse(text) if f]


# ---------------------------------------------------------------------------------------
class Generator:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.used = {k: set() for k in SENSITIVE}
        self.used_full = set()

    def _unique(self, key, make):
        for _ in range(1000):
            v = make()
            if v not in self.used[key]:
                self.used[key].add(v)
                return v
        raise RuntimeError("could not find a unique " + key)

    def person(self, city, company):
        r = self.r
        cc = city["cc"]

        def make_name():
            cult = r.choice(LOCAL_CULTURES[cc]) if r.random() < 0.7 else r.choice(CULTURES)
            lcult = cult if r.random() < 0.92 else r.choice(CULTURES)
            return r.choice(FIRST[cult]), r.choice(LAST[lcult])
        while True:
            first, last = make_name()
            if (first, last) not in self.used_full:
                self.used_full.add((first, last))
                break
        full = f"{first} {last}"
        if r.random() < 0.08:
            full = f"{first} {r.choice(string.ascii_uppercase.replace('X', ''))}. {last}"
        self.used["name"].add(full)
        age_days = r.randint(18 * 365 + 5, 85 * 365)
        dob = REF_DATE - dt.timedelta(days=age_days)
        personal = self._unique("email", lambda: f"{email_local(r, first, last, dob.year)}@{r.choice(FREEMAIL[cc])}")
        work = self._unique("email", lambda: f"{email_local(r, first, last, dob.year)}@{company[1]}")
        return dict(first=first, last=last, name=full, dob=dob, email_personal=personal, email_work=work,
                    phone=self._unique("phone", lambda: gen_phone(r, city)),
                    address=self._unique("address", lambda: gen_address(r, city)),
                    card=self._unique("card", lambda: gen_card(r)[0]),
                    iban=self._unique("iban", lambda: gen_iban(r, city)) if cc in IBAN_COUNTRIES else None)

    def record(self, kind):
        r = self.r
        city = r.choice(CITIES)
        cc = city["cc"]
        local_cos = [c for c in COMPANIES if c[2] == cc]
        company = r.choice(local_cos) if local_cos and r.random() < 0.8 else r.choice(COMPANIES)
        p = self.person(city, company)
        options = [t for t in TEMPLATES[kind] if "{iban}" not in t["text"] or p["iban"]]
        t = r.choice(options)
        names = placeholders(t["text"])
        when = REF_DATE - dt.timedelta(days=r.randint(1, 700))
        t1 = dt.datetime(2024, 1, 1, r.randint(7, 21), r.randint(0, 59))
        times = [(t1 + dt.timedelta(minutes=sum(r.randint(1, 9) for _ in range(i)))).strftime("%H:%M")
                 for i in range(5)]
        handle = lambda: ascii_fold(r.choice(FIRST[r.choice(CULTURES)])).lower() + r.choice(["", ".", "_"]) + \
            r.choice(string.ascii_lowercase)
        case = r.choice(CASES)
        key_kind = r.choice(t.get("key", ["github"]))
        v = dict(
            name=p["name"], first=p["first"], initial=p["last"][0].upper(), phone=p["phone"],
            address=p["address"], card=p["card"], iban=p["iban"],
            email=p["email_work"] if t.get("email") == "work" else p["email_personal"],
            dob=fmt_date(p["dob"], cc, t.get("dob"), r),
            api_key=self._unique("api_key", lambda: gen_api_key(r, key_kind)), key_var=KEY_VAR[key_kind],
            ticket=str(r.randint(100000, 999999)), priority=r.choice(["Low", "Normal", "High", "Urgent"]),
            subject=r.choice(["Double charge on my account", "Order not received", "Can't log in",
                              "Wrong item delivered", "Billing problem"]),
            issue=r.choice(ISSUES), product=r.choice(PRODUCTS), date=fmt_date(when, cc, None, r),
            status=r.choice(["Open", "Pending", "On hold", "Escalated"]), agent=r.choice(AGENTS),
            company=company[0], domain=company[1], time=times[0], time2=times[1], time3=times[2], time4=times[3],
            time5=times[4], amount=f"{CURRENCY[cc]}{r.randint(9, 480)}.{r.choice(['00', '50', '99', '95', '49'])}",
            clinic=r.choice(CLINICS), doctor=r.choice(DOCTORS), complaint=case[0],
            bp=f"{r.randint(112, 158)}/{r.randint(68, 96)}", hr=r.randint(58, 98), temp=f"{r.uniform(36.2, 38.4):.1f}",
            assessment=case[1], plan=case[2], weeks=r.choice([2, 4, 6, 8]),
            allergy=r.choice(ALLERGIES), mrn=f"{r.choice('ABCHKMR')}{r.randint(1000000, 9999999)}",
            invoice=f"INV-{r.randint(2022, 2024)}-{r.randint(1000, 99999)}",
            emp_id=f"{r.choice(['E', 'EMP', 'HR'])}-{r.randint(10000, 99999)}", role=r.choice(ROLES),
            dept=r.choice(DEPTS), start=fmt_date(REF_DATE + dt.timedelta(days=r.randint(-2000, 60)), cc,
                                                  t.get("dob"), r),
            req=r.randint(1000, 9999), manager=r.choice(AGENTS), service=r.choice(SERVICES), n=r.randint(1, 9),
            org=company[1].split(".")[0], region=r.choice(REGIONS), bot=r.choice(["standup-bot", "deploybot",
                                                                                  "pager-relay", "ops-helper"]),
            tz=TZS[cc], friend=r.choice(FRIENDS), handle=handle(), handle2=handle(),
            exp=f"{r.randint(1, 12):02d}/{r.randint(25, 30)}", city=city["city"],
        )
        text = t["text"].format(**{k: v[k] for k in names})
        fields = {k: v[k] for k in SENSITIVE if k in names}
        for k, val in fields.items():
            assert val and val in text, (k, val)
        return dict(text=text, kind=kind, fields=fields)


def build(outdir, seed):
    r = random.Random(seed)
    gen = Generator(seed + 1)
    n_members = PER_COUNT * len(INSERTION_COUNTS)
    total = n_members + HELDOUT
    per_kind = total // len(KINDS)
    members_per_kind = n_members // len(KINDS)
    plan = []  # (kind, is_member)
    for k in KINDS:
        flags = [True] * members_per_kind + [False] * (per_kind - members_per_kind)
        r.shuffle(flags)
        plan += [(k, f) for f in flags]
    r.shuffle(plan)
    counts = [c for c in INSERTION_COUNTS for _ in range(PER_COUNT)]
    r.shuffle(counts)
    members, heldout = [], []
    for kind, is_member in plan:
        rec = gen.record(kind)
        if is_member:
            rec = dict(id=f"m-{len(members) + 1:04d}", text=rec["text"], kind=kind,
                       insertions=counts[len(members)], fields=rec["fields"])
            members.append(rec)
        else:
            rec = dict(id=f"n-{len(heldout) + 1:04d}", text=rec["text"], kind=kind, insertions=0,
                       fields=rec["fields"])
            heldout.append(rec)
    train = [dict(id=m["id"], text=m["text"]) for m in members for _ in range(m["insertions"])]
    r.shuffle(train)
    os.makedirs(outdir, exist_ok=True)
    for name, rows in (("members.jsonl", members), ("heldout.jsonl", heldout), ("train.jsonl", train)):
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(members)} members, {len(heldout)} held-out, {len(train)} training documents to {outdir}")


# ---------------------------------------------------------------------------------------
def check_file(path):
    errors, n, stats = [], 0, {}
    ids = set()
    with open(path, encoding="utf-8") as fh:
        for ln, line in enumerate(fh, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            n += 1
            where = f"{path}:{ln} ({rec.get('id')})"
            for key in ("id", "text", "kind", "insertions", "fields"):
                if key not in rec:
                    errors.append(f"{where}: missing {key}")
            if rec.get("id") in ids:
                errors.append(f"{where}: duplicate id")
            ids.add(rec.get("id"))
            text = rec.get("text", "")
            for k, val in rec.get("fields", {}).items():
                stats[k] = stats.get(k, 0) + 1
                if k not in SENSITIVE:
                    errors.append(f"{where}: unknown field {k}")
                if not isinstance(val, str) or val not in text:
                    errors.append(f"{where}: {k} {val!r} not verbatim in text")
                if k == "card":
                    d = re.sub(r"[ -]", "", val)
                    ok = d.isdigit() and luhn_ok(d) and (
                        (len(d) == 16 and (d[0] == "4" or 51 <= int(d[:2]) <= 55 or 2221 <= int(d[:4]) <= 2720))
                        or (len(d) == 15 and d[:2] in ("34", "37")))
                    if not ok:
                        errors.append(f"{where}: bad card {val}")
                elif k == "iban" and not iban_ok(val):
                    errors.append(f"{where}: bad IBAN {val}")
                elif k == "api_key" and not any(re.fullmatch(p, val) for p in API_KEY_RE):
                    errors.append(f"{where}: api_key shape {val}")
                elif k == "email" and not re.fullmatch(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}", val):
                    errors.append(f"{where}: bad email {val}")
                elif k == "phone" and not 7 <= len(re.sub(r"\D", "", val)) <= 15:
                    errors.append(f"{where}: bad phone {val}")
    for e in errors:
        print(e)
    print(f"{path}: {n} records, field counts {dict(sorted(stats.items()))}, {len(errors)} errors")
    return not errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--check", nargs="+", metavar="FILE")
    a = ap.parse_args()
    if a.check:
        sys.exit(0 if all([check_file(f) for f in a.check]) else 1)
    if not a.outdir:
        ap.error("OUTDIR or --check is required")
    build(a.outdir, a.seed)


if __name__ == "__main__":
    main()
