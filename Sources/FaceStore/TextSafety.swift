/// Text that reaches a terminal, a log line or the audit chain must not carry control
/// characters: an escape sequence could repaint the screen, a newline forge a line, a NUL cut
/// a field short in C tools.
public enum TextSafety {
    /// C0 and C1 controls, DEL, and the bidirectional overrides and isolates that reorder text.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00 ... 0x1F, 0x7F ... 0x9F, 0x202A ... 0x202E, 0x2066 ... 0x2069: true
        default: false
        }
    }

    public static func containsUnsafe(_ text: String) -> Bool { text.unicodeScalars.contains(where: isUnsafe) }

    /// Each unsafe character as a visible escape: "\x1b", "\n" as "\x0a", "\u{202e}".
    public static func escapingControls(_ text: String) -> String {
        guard containsUnsafe(text) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard isUnsafe(scalar) else { out.append(scalar); continue }
            let hex = String(scalar.value, radix: 16)
            let escaped = scalar.value <= 0xFF ? "\\x" + (hex.count == 1 ? "0" + hex : hex) : "\\u{\(hex)}"
            out.append(contentsOf: escaped.unicodeScalars)
        }
        return String(out)
    }
}
