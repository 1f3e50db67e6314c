import FaceTestSupport
import Foundation
import Testing
@testable import FaceStore

@Suite struct NameTests {
    /// One name on its own: valid or not, and why.
    static let alone: [(name: String, valid: Bool, note: String)] = [
        ("obama", true, "plain ASCII"),
        ("Ärger", true, "composed umlaut"),
        ("A\u{308}rger", true, "decomposed umlaut: valid, stored as its NFC twin"),
        ("jean-luc.o_neil", true, "punctuation inside"),
        ("0day", true, "starting with a digit"),
        ("", false, "empty"),
        ("-x", false, "starting with punctuation"),
        ("\u{301}a", false, "starting with a combining mark"),
        (String(repeating: "a", count: 64), true, "64 bytes"),
        (String(repeating: "a", count: 65), false, "65 bytes"),
        (String(repeating: "ä", count: 33), false, "33 characters but 66 bytes"),
        ("a" + String(repeating: "\u{301}", count: 2500), false, "one grapheme of 5001 bytes"),
        ("bob\u{1b}[31m", false, "ANSI escape"),
        ("bob\nalice", false, "newline"),
        ("bob\u{85}", false, "C1 control"),
        ("bob\u{7f}", false, "DEL"),
        ("bob\u{202e}gpj", false, "bidi override"),
        ("bob\u{2066}", false, "bidi isolate"),
        ("bob smith", false, "space"),
        ("bob/x", false, "slash"),
    ]

    @Test(arguments: alone.indices) func nameRules(_ i: Int) {
        let c = Self.alone[i]
        #expect(Person.isValidName(c.name) == c.valid, "\(c.note)")
        #expect((Names.nameProblem(c.name) == nil) == c.valid, "\(c.note)")
    }

    /// Two names: are they one name, look-alikes, or distinct?
    enum Relation { case same, lookalike, distinct }
    static let pairs: [(a: String, b: String, relation: Relation, note: String)] = [
        ("Ärger", "A\u{308}rger", .same, "NFC and NFD twins"),
        ("Ärger", "ärger", .same, "non-ASCII case twins"),
        ("obama", "OBAMA", .same, "ASCII case twins"),
        ("strasse", "Straße", .same, "full case folding: ß is ss"),
        ("obama", "\u{43e}bama", .lookalike, "Cyrillic о"),
        ("obama", "\u{41e}BAMA", .lookalike, "Cyrillic capital О, other case"),
        ("paul", "\u{440}aul", .lookalike, "Cyrillic р"),
        ("nova", "n\u{3bf}va", .lookalike, "Greek omicron"),
        ("alice", "a1ice", .lookalike, "digit one for l"),
        ("obama", "0bama", .lookalike, "digit zero for o"),
        ("martin", "rnartin", .lookalike, "rn for m"),
        ("obama", "osama", .distinct, "one real letter differs"),
        ("alice", "alicia", .distinct, "different names"),
        ("ärger", "arger", .distinct, "an umlaut is not a look-alike of its base letter"),
    ]

    @Test(arguments: pairs.indices) func twinsAndLookalikes(_ i: Int) {
        let c = Self.pairs[i]
        let same = Names.folded(c.a) == Names.folded(c.b)
        let lookalike = Names.lookalikeKey(c.a) == Names.lookalikeKey(c.b)
        switch c.relation {
        case .same: #expect(same, "\(c.note)")
        case .lookalike: #expect(!same && lookalike, "\(c.note)")
        case .distinct: #expect(!same && !lookalike, "\(c.note)")
        }
    }

    @Test func skeletonFollowsUTS39() {
        #expect(Names.skeleton("\u{43e}bama") == Names.skeleton("obama"))
        #expect(Names.skeleton("obama") == "obarna", "m's prototype is rn")
        #expect(Names.skeleton("paypal") == Names.skeleton("p\u{430}yp\u{430}l"))
        #expect(Names.prototypes.count == 6311, "every mapping of confusables.txt \(confusablesVersion) is loaded")
    }

    static let displayNames: [(text: String, valid: Bool)] = [
        ("Barack Obama", true), ("Zoë O'Neil-Ärger", true), ("", false), ("Bob\u{1b}[2J", false), ("Bob\r\nGRANTED", false),
        ("evil\u{202e}txt.exe", false), ("x\u{9b}31m", false), (String(repeating: "é", count: 64), true),
        (String(repeating: "é", count: 65), false),
    ]

    @Test(arguments: displayNames.indices) func displayNameRules(_ i: Int) {
        let c = Self.displayNames[i]
        #expect((Names.displayNameProblem(c.text) == nil) == c.valid, "\(Names.escaped(c.text))")
    }

    static let cameraNames: [(text: String, valid: Bool)] = [
        ("door", true), ("front door", true), ("gate-2.north_side", true), ("Küche", true), ("../../x", false), ("a/b", false),
        (".hidden", false), ("", false), (" door", false), ("door\0", false), ("door\u{1b}[31m", false), ("door\nfake", false),
        ("=HYPERLINK(\"http://x\")", false), (String(repeating: "c", count: 65), false),
    ]

    @Test(arguments: cameraNames.indices) func cameraNameRules(_ i: Int) {
        let c = Self.cameraNames[i]
        #expect((Names.cameraNameProblem(c.text) == nil) == c.valid, "\(Names.escaped(c.text))")
    }

    @Test func escapingShowsEveryControlCharacterOnOneLine() {
        #expect(Names.escaped("plain Ärger") == "plain Ärger")
        #expect(Names.escaped("a\u{1b}[31mred\nGRANTED\r\t") == "a\\x1b[31mred\\nGRANTED\\r\\t")
        #expect(Names.escaped("x\u{9b}y\u{7f}\0") == "x\\x9by\\x7f\\x00")
        #expect(Names.escaped("abc\u{202e}fdp.exe\u{2069}") == "abc\\u{202E}fdp.exe\\u{2069}")
        #expect(Names.escaped("C:\\x1b") == "C:\\\\x1b", "a backslash is escaped, so escaped text is never ambiguous")
        let all = (UInt32(0) ... 0x9F).compactMap(Unicode.Scalar.init).filter(Names.isControl)
        #expect(all.count == 65)
        #expect(!Names.escaped(String(String.UnicodeScalarView(all))).unicodeScalars.contains(where: Names.isControl))
    }
}

@Suite struct DistinctNameStoreTests {
    let dir: TempDirectory
    let store: FaceStore

    init() throws {
        dir = try TempDirectory()
        store = try FaceStore(path: dir.file("faced.db"))
    }

    func template(_ sha: String) -> FaceTemplate {
        FaceTemplate(vector: (0 ..< 128).map { Float($0) * 0.001 }, sourceName: "\(sha).jpg", sourceSHA256: sha,
                     box: (10, 20, 100, 110), detectorScore: 1.5, sharpness: 300, brightness: 120)
    }

    @Test func aLookalikeOfAnEnrolledPersonIsRefusedAndChangesNothing() throws {
        try store.enroll(name: "obama", templates: [template("o1")])
        let before = try GalleryFingerprint(store)
        #expect(throws: StoreError.lookalikeName(name: "\u{43e}bama", existing: "obama",
                                                 character: "U+043E CYRILLIC SMALL LETTER O")) {
            try store.enroll(name: "\u{43e}bama", templates: [template("c1")])
        }
        #expect(throws: StoreError.self) { try store.enroll(name: "0bama", templates: [template("c2")]) }
        #expect(try GalleryFingerprint(store) == before)
        #expect(try store.people().map(\.person.name) == ["obama"])
    }

    @Test func caseAndNormalisationTwinsAreOnePerson() throws {
        try store.enroll(name: "A\u{308}rger", templates: [template("a1")])
        let stored = try #require(try store.person(named: "Ärger"))
        #expect(stored.name.unicodeScalars.count == 5, "stored in NFC")
        // The NFD spelling finds the NFC person: photos are added to them.
        try store.enroll(name: "A\u{308}rger", templates: [template("a2")])
        #expect(try store.counts() == (1, 2))
        let before = try GalleryFingerprint(store)
        #expect(throws: StoreError.nameTaken(name: "ärger", existing: "Ärger")) {
            try store.enroll(name: "ärger", templates: [template("a3")])
        }
        #expect(try GalleryFingerprint(store) == before)
    }

    @Test func controlCharactersInADisplayNameAreRefused() throws {
        #expect(throws: StoreError.self) { try store.enroll(name: "bob", displayName: "Bob\u{1b}[2J", templates: [template("b1")]) }
        try store.enroll(name: "bob", templates: [template("b1")])
        #expect(throws: StoreError.self) { try store.update(name: "bob", PersonUpdate(displayName: "Bob\nGRANTED")) }
        #expect(try store.person(named: "bob")?.displayName == "bob")
    }

    @Test func aSyncAddingALookalikeIsRefusedWhole() throws {
        try store.enroll(name: "obama", templates: [template("o1")])
        let before = try GalleryFingerprint(store)
        func person(_ name: String, _ sha: String) -> PersonSync {
            PersonSync(name: name, displayName: name, enabled: true, validFrom: nil, validUntil: nil, securityLevel: nil,
                       groups: [], schedules: [], addTemplates: [template(sha)], removeSHA256: [])
        }
        #expect(throws: StoreError.self) {
            try store.apply(GallerySync(people: [person("alice", "a1"), person("\u{43e}bama", "c1")], groupSchedules: [:], remove: []))
        }
        #expect(try GalleryFingerprint(store) == before)
    }

    /// Two processes' worth of writers racing to enroll look-alikes: the check runs in the insert's
    /// transaction, so exactly one wins.
    @Test func concurrentLookalikeEnrollmentsLetOnlyOneIn() async throws {
        let path = dir.file("faced.db")
        let names = ["obama", "\u{43e}bama", "0bama", "OBAMA", "\u{3bf}bama", "\u{43e}b\u{430}ma"]
        let results = await withTaskGroup(of: Bool.self) { group in
            for (i, name) in names.enumerated() {
                group.addTask {
                    guard let own = try? FaceStore(path: path) else { return false }
                    return (try? own.enroll(name: name, templates: [self.template("s\(i)")])) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        // OBAMA may add its photo to whichever ASCII spelling won; no second person exists either way.
        #expect(try store.counts().people == 1)
        #expect(results.contains(true))
    }
}

extension DistinctNameStoreTests {
    @Test func aLookalikeGroupIsRefusedAndACaseTwinIsTheSameGroup() throws {
        try store.enroll(name: "alice", templates: [template("a1")])
        try store.update(name: "alice", PersonUpdate(groups: ["staff"]))
        let before = try GalleryFingerprint(store)
        #expect(throws: StoreError.lookalikeGroup(name: "\u{455}taff", existing: "staff")) {
            try store.update(name: "alice", PersonUpdate(groups: ["\u{455}taff"]))
        }
        #expect(throws: StoreError.self) { try store.setSchedules(["mon 08:00-09:00"], group: "st\u{430}ff") }
        #expect(try GalleryFingerprint(store) == before)
        try store.update(name: "alice", PersonUpdate(groups: ["STAFF", "lab"]))
        #expect(try store.groups().map(\.name) == ["lab", "staff"])
    }
}
