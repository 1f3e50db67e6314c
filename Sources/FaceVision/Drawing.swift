/// An RGB colour for drawing.
public struct Color: Sendable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    public static let green = Color(40, 220, 60)
    public static let red = Color(235, 40, 40)
    public static let yellow = Color(250, 210, 30)
    public static let white = Color(255, 255, 255)
    public static let black = Color(0, 0, 0)
    public static let gray = Color(128, 128, 128)
}

extension Image where Format == RGB8 {
    /// Fills `rect`, clipped to the image.
    public mutating func fill(_ rect: PixelRect, _ color: Color) {
        guard let r = rect.intersection(bounds) else { return }
        let w = width
        pixels.withUnsafeMutableBufferPointer { p in
            for y in r.y ..< r.maxY {
                for x in r.x ..< r.maxX {
                    let i = (y * w + x) * 3
                    p[i] = color.r; p[i + 1] = color.g; p[i + 2] = color.b
                }
            }
        }
    }

    /// The outline of `rect`, `thickness` pixels wide, inside the rectangle.
    public mutating func stroke(_ rect: PixelRect, _ color: Color, thickness: Int = 2) {
        let t = max(1, min(thickness, rect.width / 2, rect.height / 2))
        fill(PixelRect(x: rect.x, y: rect.y, width: rect.width, height: t), color)
        fill(PixelRect(x: rect.x, y: rect.maxY - t, width: rect.width, height: t), color)
        fill(PixelRect(x: rect.x, y: rect.y, width: t, height: rect.height), color)
        fill(PixelRect(x: rect.maxX - t, y: rect.y, width: t, height: rect.height), color)
    }

    /// A filled square dot centred on `point`.
    public mutating func dot(at point: Point, radius: Int, _ color: Color) {
        let x = Int(point.x.rounded()), y = Int(point.y.rounded())
        fill(PixelRect(x: x - radius, y: y - radius, width: 2 * radius + 1, height: 2 * radius + 1), color)
    }

    /// `text` in the 5x7 bitmap font, each font pixel `scale` image pixels, its top-left at (x, y),
    /// on a `background` box when given. Returns the box it covered.
    @discardableResult
    public mutating func draw(_ text: String, x: Int, y: Int, scale: Int = 2, _ color: Color, background: Color? = nil) -> PixelRect {
        let s = max(1, scale)
        let box = BitmapFont.size(of: text, scale: s)
        let covered = PixelRect(x: x, y: y, width: box.width + 2 * s, height: box.height + 2 * s)
        if let background { fill(covered, background) }
        var penX = x + s
        for character in text {
            let rows = BitmapFont.glyph(character)
            for (row, bits) in rows.enumerated() {
                for column in 0 ..< BitmapFont.width where bits & (1 << (BitmapFont.width - 1 - column)) != 0 {
                    fill(PixelRect(x: penX + column * s, y: y + s + row * s, width: s, height: s), color)
                }
            }
            penX += BitmapFont.advance * s
        }
        return covered
    }
}

/// A 5x7 pixel font for labels drawn into images: letters (drawn as capitals), digits and the
/// punctuation of names and distances. Anything else is drawn as '?'.
public enum BitmapFont {
    public static let width = 5
    public static let height = 7
    /// Glyph width plus one column of space.
    public static let advance = 6

    public static func size(of text: String, scale: Int) -> (width: Int, height: Int) {
        (max(0, text.count * advance - 1) * scale, height * scale)
    }

    /// The glyph's rows, top first, bit 4 the leftmost column.
    public static func glyph(_ character: Character) -> [UInt8] {
        let key = Character(character.uppercased())
        return glyphs[key] ?? glyphs["?"]!
    }

    private static func rows(_ art: String) -> [UInt8] {
        art.split(separator: " ").map { row in row.reduce(UInt8(0)) { $0 << 1 | ($1 == "#" ? 1 : 0) } }
    }

    static let glyphs: [Character: [UInt8]] = {
        let art: [Character: String] = [
            "A": ".###. #...# #...# ##### #...# #...# #...#", "B": "####. #...# #...# ####. #...# #...# ####.",
            "C": ".###. #...# #.... #.... #.... #...# .###.", "D": "####. #...# #...# #...# #...# #...# ####.",
            "E": "##### #.... #.... ####. #.... #.... #####", "F": "##### #.... #.... ####. #.... #.... #....",
            "G": ".###. #...# #.... #.### #...# #...# .####", "H": "#...# #...# #...# ##### #...# #...# #...#",
            "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
            "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#", "L": "#.... #.... #.... #.... #.... #.... #####",
            "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#", "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
            "O": ".###. #...# #...# #...# #...# #...# .###.", "P": "####. #...# #...# ####. #.... #.... #....",
            "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#", "R": "####. #...# #...# ####. #.#.. #..#. #...#",
            "S": ".#### #.... #.... .###. ....# ....# ####.", "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
            "U": "#...# #...# #...# #...# #...# #...# .###.", "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
            "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.", "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
            "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..", "Z": "##### ....# ...#. ..#.. .#... #.... #####",
            "0": ".###. #...# #..## #.#.# ##..# #...# .###.", "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
            "2": ".###. #...# ....# ...#. ..#.. .#... #####", "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
            "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.", "5": "##### #.... ####. ....# ....# #...# .###.",
            "6": "..##. .#... #.... ####. #...# #...# .###.", "7": "##### ....# ...#. ..#.. .#... .#... .#...",
            "8": ".###. #...# #...# .###. #...# #...# .###.", "9": ".###. #...# #...# .#### ....# ...#. .##..",
            " ": "..... ..... ..... ..... ..... ..... .....", ".": "..... ..... ..... ..... ..... .##.. .##..",
            ",": "..... ..... ..... ..... .##.. ..#.. .#...", ":": "..... .##.. .##.. ..... .##.. .##.. .....",
            "-": "..... ..... ..... ##### ..... ..... .....", "_": "..... ..... ..... ..... ..... ..... #####",
            "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.", ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
            "/": "..... ....# ...#. ..#.. .#... #.... .....", "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
            "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....", "=": "..... ..... ##### ..... ##### ..... .....",
            "%": "##... ##..# ...#. ..#.. .#... #..## ...##", "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
        ]
        return art.mapValues(rows)
    }()
}
