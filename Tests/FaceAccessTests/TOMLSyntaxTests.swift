import FaceTestSupport
import Foundation
import TOMLKit
import Testing
@testable import FaceAccess

/// The TOML 1.0 recogniser that stands before toml++ (which aborts on some malformed texts).
@Suite struct TOMLSyntaxTests {
    /// Every construct of TOML 1.0, free of semantic errors (tomllib would refuse a duplicate key).
    static let valid: [String] = [
        "", "\n", "\n\n\n", "# only a comment\n", "a = 1", "a = 1\r\nb = 2\r\n# c\r\n", "  a\t=\t1  # trailing comment\n",
        "bare_key-1 = 1\n\"quoted key\" = 2\n'literal key' = 3\n\"\" = 4\n\"\\u00e9\\\"\" = 5\n",
        "a.b.c = 1\na . b . d = 2\n\"x\".'y'.z = 3\n", "1234 = 1\n3.14159 = \"pi\"\n1979-05-27 = 1\ntrue = true\ninf = nan\n",
        "[table]\n[table.sub]\n[ a . \"b\" . 'c' ]\n[\"\"]\n", "[a]\n  b = 1 \t\n\n\t[a.c] # comment\n",
        "[[fruit]]\nname = \"apple\"\n[[fruit]]\nname = \"banana\"\n[[ fruit . variety ]]\nname = \"plantain\"\n",
        "s = \"tab\\there \\\"q\\\" \\\\ \\b\\f\\n\\r \\u00E9 \\U0001F600 \\uFFFF \\U0010FFFF\"\n",
        "s = 'C:\\Users\\nodejs\\templates'\nt = '<\\i\\c*\\s*>'\nu = 'Tom \"Dubs\" Preston'\n",
        "s = \"é ü 😀 \u{10FFFF}\"\nt = \"\t tab inside\"\n# comment é 😀\n",
        "a = \"#not a comment\"\nkey = \"value\"#comment right after\n",
        "s = \"\"\"\nRoses\nViolets\"\"\"\n", "s = \"\"\"a \\\n   b\\\n\n  c\"\"\"\n", "s = \"\"\"a \\   \n  b \\\t\r\n  c\"\"\"\n",
        "s = \"\"\"Here are two quotation marks: \"\". Simple enough.\"\"\"\n",
        "s = \"\"\"\"This,\" she said, \"is just a pointless statement.\"\"\"\"\n",
        "s = '''\nThe first newline is\ntrimmed in raw strings.\n'''\n", "s = '''I [dw]on't need \\d{2} apples'''\n",
        "s = ''''That,' she said, 'is still pointless.''''\n", "s = \"\"\"\"\"\"\nt = ''''''\n", "s = \"\"\"x\"\"\"\"\"\nt = '''y'''''\n",
        "s = \"\"\"a\r\nb\"\"\"\r\nt = '''a\r\n\tb'''\r\n", "s = \"\"\"\\\"\"\"\"\"\"\n", "s = \"\"\"a\"\"b\"c\"\"\"\n",
        "a = +99\nb = 42\nc = 0\nd = -17\ne = 1_000\nf = 5_349_221\ng = 1_2_3_4_5\nh = 0xDEADBEEF\ni = 0xdead_beef\nj = 0o01234567\nk = 0o755\nl = 0b11010110\nm = -0\nn = +0\no = 0x0\np = 0b1_0\n",
        "a = +1.0\nb = 3.1415\nc = -0.01\nd = 5e+22\ne = 1e06\nf = -2E-2\ng = 6.626e-34\nh = 224_617.445_991_228\ni = inf\nj = +inf\nk = -inf\nl = nan\nm = +nan\nn = -nan\no = 0.0\np = -0.0\nq = 0e0\nr = 1e1_0\ns = 0.0_1\n",
        "t = true\nf = false\n",
        "odt1 = 1979-05-27T07:32:00Z\nodt2 = 1979-05-27T00:32:00-07:00\nodt3 = 1979-05-27T00:32:00.999999-07:00\nodt4 = 1979-05-27 07:32:00Z\nodt5 = 1979-05-27t07:32:00z\n",
        "ldt1 = 1979-05-27T07:32:00\nldt2 = 1979-05-27T00:32:00.999999\nld1 = 1979-05-27\nlt1 = 07:32:00\nlt2 = 00:32:00.999999\nleap = 2024-02-29\nend = 1999-12-31T23:59:59+23:59\nlong = 2000-02-29T00:00:00.123456789123Z\n",
        "d = [1979-05-27 , 07:32:00,1979-05-27 07:32:00]\n",
        "integers = [ 1, 2, 3 ]\ncolors = [ \"red\", \"yellow\", \"green\" ]\nnested = [ [ 1, 2 ], [3, 4, 5] ]\nmixed = [ [ 1, 2 ], [\"a\", \"b\", \"c\"] ]\nstrings = [ \"all\", 'strings', \"\"\"are the same\"\"\", '''type''' ]\nnumbers = [ 0.1, 0.2, 0.5, 1, 2, 5 ]\nempty = []\nempty2 = [ ]\n",
        "contributors = [\n  \"Foo Bar <foo@example.com>\",\n  { name = \"Baz Qux\", email = \"bazqux@example.com\", url = \"https://example.com/bazqux\" }\n]\n",
        "a = [\n  1, 2, 3\n]\nb = [\n  1,\n  2, # this is ok\n]\nc = [ # comment\n # another\n\n]\nd=[1,2,]\ne = [\r\n1\r\n,2]\n",
        "ml = [\n  \"\"\"\n  a ] , \n  \"\"\",\n  '''#''', # ]\n]\n", "a = [[1], [[2]], {b = [3]}, []]\n",
        "name = { first = \"Tom\", last = \"Preston-Werner\" }\npoint = { x = 1, y = 2 }\nanimal = { type.name = \"pug\" }\ne = {}\nf = { }\nn = { a = { b = [1, 2] } }\n",
        "t = { a = [\n1,\n2 # c\n], b = \"\"\"x\ny\"\"\" }\n", "t = {\"quoted\"=1,'lit'.x=2}\n",
        "[a.b]\nc = 1\n[a]\nd = 2\n", "x = 1 # \u{7E} tilde\n",
    ]

    /// Accepted here (and by toml++) but refused by tomllib for reasons that are not syntax.
    static let validNotForTomllib: [(String, why: String)] = [
        ("\u{FEFF}a = 1\n", "tomllib reads a str and takes a byte-order mark for text"),
        ("d = 0000-01-01\n", "Python's datetime has no year 0"),
        ("a = 1\na = 2\n", "duplicate key"),
        ("[t]\n[t]\n", "table defined twice"),
        ("a = {b = 1}\n[a]\n", "inline table extended"),
        ("a.b = 1\na.b.c = 2\n", "key redefined as a table"),
    ]

    /// Valid TOML 1.0 (tomllib reads it) that is refused here because TOMLKit would misread it.
    static let validButRefused: [(String, why: String)] = [
        ("v = \"a\\u0000b\"\n", "TOMLKit cuts a string at a NUL"),
        ("\"a\\U00000000b\" = 1\n", "TOMLKit cuts a key at a NUL"),
        ("v = \"\"\"a\\u0000\"\"\"\n", "TOMLKit cuts a string at a NUL"),
        ("a = " + String(repeating: "[", count: TOMLSyntax.maxDepth + 1) + String(repeating: "]", count: TOMLSyntax.maxDepth + 1) + "\n", "nesting limit"),
    ]

    /// Malformed texts and the line that must be named.
    static let invalid: [(String, line: Int)] = [
        ("s=[}", 1), ("[.x]", 1), ("a=[1,", 1), ("a={b=1,}", 1), ("a = \"\\uD800\"", 1), ("a = \"\\uDFFF\"", 1),
        ("a = \"\\U0000D800\"", 1), ("a = \"\\U00110000\"", 1), ("a = \"\\u00\"", 1), ("a = \"\\u00G0\"", 1), ("a = \"\\x41\"", 1),
        ("a = \"\\e\"", 1), ("a = \"\\ \"", 1), ("a = \"abc\n", 1), ("a = 'abc\nb = 1", 1), ("a = \"abc", 1),
        ("x = 1\na = \"\"\"abc\n\n", 2), ("x = 1\na = '''abc", 2), ("a = \"\"\"x\"\"\"\"\"\"", 1), ("a = \"\"\"x\\ y\"\"\"", 1),
        ("a = 1__0", 1), ("a = 0x", 1), ("a = 01", 1), ("a = +0x1", 1), ("a = -0b1", 1), ("a = 1_", 1), ("a = _1", 1),
        ("a = 0xG", 1), ("a = 0o8", 1), ("a = 0b2", 1), ("a = 0X1", 1), ("a = 1.", 1), ("a = .1", 1), ("a = 1.e5", 1),
        ("a = 1e", 1), ("a = 1e_1", 1), ("a = 0_0", 1), ("a = 00", 1), ("a = 1.5.3", 1), ("a = +-1", 1), ("a = 1_.0", 1),
        ("a = Inf", 1), ("a = NaN", 1), ("a = True", 1), ("a = tru", 1), ("a = truee", 1), ("a = infinity", 1), ("a = 0x_1", 1),
        ("a = 1979-13-01", 1), ("a = 1979-00-01", 1), ("a = 1979-02-30", 1), ("a = 2023-02-29", 1), ("a = 1900-02-29", 1),
        ("a = 1979-05-27T25:00:00", 1), ("a = 1979-05-27T07:60:00", 1), ("a = 1979-05-27T07:32:60", 1), ("a = 1979-05-27T07:32", 1),
        ("a = 1979-05-27T07:32:00+1:00", 1), ("a = 1979-05-27T07:32:00+24:00", 1), ("a = 1979-05-27T07:32:00+0100", 1),
        ("a = 1979-5-27", 1), ("a = 07:32", 1), ("a = 07:32:00Z", 1), ("a = 1979-05-27T07:32:00.", 1), ("a = 1979-05-27 07:32", 1),
        ("a = 1979-05-27X07:32:00", 1), ("a = 1979-05-27T07:32:00Zx", 1), ("a = 24:00:00", 1),
        ("a = ", 1), ("a =\nb = 1", 1), ("= 1", 1), ("a", 1), ("a b = 1", 1), ("a = 1 b = 2", 1), ("a. = 1", 1), (".a = 1", 1),
        ("a = [1 2]", 1), ("a = [,]", 1), ("a = [1,,2]", 1), ("a = {,}", 1), ("a = {b = 1\n}", 1), ("a = {\nb = 1}", 1),
        ("a = {b = 1 c = 2}", 1), ("a = { b = 1, , c = 2 }", 1), ("a = {b}", 1), ("a = {b = 1", 1), ("a = { # c\n}", 1),
        ("[a", 1), ("[[a]", 1), ("[[a] ]", 1), ("[ [a]]", 1), ("[a] b = 1", 1), ("[]", 1), ("[ ]", 1), ("[a.]", 1), ("[a..b]", 1),
        ("[a\nb]", 1), ("[[]]", 1), ("\"\"\"a\"\"\" = 1", 1), ("'''a''' = 1", 1), ("a\u{A0}= 1", 1), ("é = 1", 1),
        ("a = 1\r b = 2", 1), ("a = \"x\"\r", 1), ("# ctrl \u{01}\n", 1), ("# del \u{7F}", 1), ("a = 'x\u{7F}'", 1),
        ("a = \"x\u{00}\"", 1), ("a = \"x\u{1B}\"", 1), ("a = \"\"\"x\u{0C}\"\"\"", 1), ("a = \"\"\"x\ry\"\"\"", 1), ("a = '''\u{08}'''", 1),
        ("a = \"x\" # ok\u{0B}", 1), ("a = 1\u{0C}", 1), ("\u{FEFF}\u{FEFF}a = 1", 1), ("a = 1\n\u{FEFF}b = 2", 2),
        ("a = [1,\n2,\n3\n", 1), ("a = 1\n\n[b]\nc = [1,}\n", 4), ("a = [\n  1,\n  }\n]", 3), ("x = \"ok\"\ny = 'a'b'\n", 2),
        ("a.b = 1\n[.camera]\n", 2), ("a = [1]]", 1), ("a = {}}", 1), ("a = \"\"\"\"\"\"\"\"\"", 1), ("a = [\n1\n2\n]", 3),
        ("x = 1\n[[a.b]\n", 2), ("a = 'x' 'y'", 1), ("a = \"x\"y", 1), ("a = [ 1 # c ]\n", 1), ("a == 1", 1),
    ]

    @Test(arguments: valid)
    func aValidDocumentPasses(_ text: String) {
        #expect(throws: Never.self, "\(text.debugDescription)") { try TOMLSyntax.check(text) }
    }

    @Test func documentsTomllibRefusesForOtherReasonsPass() throws {
        for (text, why) in Self.validNotForTomllib {
            #expect(throws: Never.self, "\(text.debugDescription): \(why)") { try TOMLSyntax.check(text) }
        }
    }

    /// The project's own TOML files.
    @Test func theRepositorysFilesPass() throws {
        let enrollment = Fixtures.root.appendingPathComponent("Enrollment")
        let files = ["systemd/faced.toml"] + (try FileManager.default.contentsOfDirectory(atPath: enrollment.path))
            .filter { $0.hasSuffix(".toml") }.map { "Enrollment/" + $0 }
        #expect(files.count >= 2)
        for file in files {
            let text = try String(contentsOf: Fixtures.root.appendingPathComponent(file), encoding: .utf8)
            #expect(throws: Never.self, "\(file)") { try TOMLSyntax.check(text) }
        }
    }

    /// What this lets through, toml++ must read: the recogniser is no stricter than the spec here.
    @Test func tomlPlusPlusReadsEveryValidDocument() {
        for text in Self.valid + Self.validNotForTomllib.prefix(2).map(\.0) {
            #expect(throws: Never.self, "\(text.debugDescription)") { try TOMLTable(string: text) }
        }
    }

    @Test func aQuotedStringPassesAndReadsBack() throws {
        for value in ["", "plain", "C:\\dir\\", "say \"hi\"", "tab\there\nnew\r\n", "\u{01}\u{1F}\u{7F}", "é😀\u{10FFFF}", "\\u0041"] {
            let text = "v = " + TOMLSyntax.quoted(value) + "\n"
            #expect(Self.error(text) == nil, "\(text.debugDescription)")
            #expect(try TOMLTable(string: text)["v"]?.string == value, "\(text.debugDescription)")
        }
    }

    /// The reason NUL escapes are refused; when TOMLKit keeps the whole string, this fails and the
    /// refusal can go.
    @Test func tomlKitCutsAStringAtAnEscapedNUL() throws {
        #expect(try TOMLTable(string: "v = \"a\\u0000b\"\n")["v"]?.string == "a")
        for (text, why) in Self.validButRefused {
            #expect(Self.error(text)?.line == 1, "\(text.debugDescription): \(why)")
        }
    }

    @Test(arguments: invalid)
    func anInvalidDocumentIsRefusedAtItsLine(_ text: String, line: Int) {
        #expect(Self.error(text)?.line == line, "\(text.debugDescription): \(Self.error(text).map { "\($0)" } ?? "accepted")")
    }

    static func error(_ text: String) -> TOMLSyntaxError? {
        do { try TOMLSyntax.check(text); return nil } catch { return error }
    }

    @Test func errorsSayWhatIsWrongAndWhere() {
        #expect(Self.error("s=[}")?.description == "line 1, column 4: expected a value or ] in the array, found '}'")
        #expect(Self.error("x = 1\nport = \n")?.description == "line 2, column 8: expected a value after =, found the end of the line")
        #expect(Self.error("a = [1,\n  2,\n")?.description == "line 1, column 5: an array must end with ]; this one is never closed")
        #expect(Self.error("a = {b = 1,}")?.message == "an inline table cannot end with a comma before }")
        #expect(Self.error("a = \"\\uD800\"")?.message == "\\uD800 is not a Unicode scalar value (a surrogate or above 10FFFF)")
        #expect(Self.error("a = 1__0")?.message == "1__0 is not a valid number: an _ must stand between two digits")
        #expect(Self.error("a = 01")?.message == "01 is not a valid number: a decimal number cannot start with 0 (leading zeros are not allowed)")
        #expect(Self.error("a = 2023-02-29")?.message == "2023-02-29 is not a valid date or date-time: that month has days 01-28")
        #expect(Self.error("a = yes")?.message == "yes is not a value (text needs quotes: \"yes\"); values are \"strings\", numbers, true, false, dates, [arrays] and {inline tables}")
        #expect(Self.error("[.x]")?.message == TOMLSyntax.headerMessage)
        // Columns count characters, not bytes.
        #expect(Self.error("\"é\" = \"😀\" x")?.column == 11)
    }

    @Test func nestingBeyondTheLimitIsRefusedNotOverflowed() {
        let deep = TOMLSyntax.maxDepth
        let ok = "a = " + String(repeating: "[", count: deep) + String(repeating: "]", count: deep)
        #expect(Self.error(ok) == nil)
        let tooDeep = "a = " + String(repeating: "[{b=", count: deep) + "1" + String(repeating: "}]", count: deep)
        #expect(Self.error(tooDeep)?.message.hasPrefix("arrays and inline tables may not nest") == true)
        // The fuzzer's kind of input: far deeper than any stack would take.
        #expect(Self.error("a=" + String(repeating: "[", count: 100_000))?.line == 1)
    }

    static let python: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { path in
        guard FileManager.default.isExecutableFile(atPath: path) else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-c", "import tomllib"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// tomllib's verdict (nil: accepted, else its error) on each text, from a python3 child.
    static func tomllib(_ texts: [String]) throws -> [String?] {
        let script = """
            import json, sys, tomllib
            out = []
            for s in json.load(sys.stdin):
                try:
                    tomllib.loads(s)
                    out.append(None)
                except Exception as e:
                    out.append(type(e).__name__ + ": " + str(e))
            print(json.dumps(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(python))
        process.arguments = ["-c", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let data = try JSONSerialization.data(withJSONObject: texts)
        // The child reads all of stdin before it writes: no deadlock with a full output pipe.
        input.fileHandleForWriting.write(data)
        try input.fileHandleForWriting.close()
        let result = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let verdicts = try #require(try JSONSerialization.jsonObject(with: result) as? [Any])
        return verdicts.map { $0 as? String }
    }

    @Test(.enabled(if: python != nil, "needs python3 with tomllib (3.11+)"))
    func acceptsAndRefusesWhatTomllibDoes() throws {
        let corpus = Self.valid + Self.invalid.map(\.0)
        let verdicts = try Self.tomllib(corpus)
        try #require(verdicts.count == corpus.count)
        for (text, theirs) in zip(corpus, verdicts) {
            let ours = Self.error(text)
            #expect((ours == nil) == (theirs == nil),
                    "\(text.debugDescription): ours \(ours.map { "\($0)" } ?? "accepted"), tomllib \(theirs ?? "accepted")")
        }
        // The texts kept out of the comparison are kept out for the reason given.
        for ((text, why), theirs) in zip(Self.validButRefused, try Self.tomllib(Self.validButRefused.map(\.0))) {
            #expect(theirs == nil, "\(text.debugDescription) (\(why)): tomllib refuses it too, so it belongs in the compared corpus")
        }
        let others = try Self.tomllib(Self.validNotForTomllib.map(\.0))
        for ((text, why), theirs) in zip(Self.validNotForTomllib, others) {
            #expect(theirs != nil, "\(text.debugDescription) (\(why)): tomllib accepts it, so it belongs in the compared corpus")
        }
    }
}
