import FaceVision
import Foundation

/// What the system sees, drawn: annotated photos and contact sheets of enrolled faces.
public enum Pictures {
    /// Every face's box, its 5 landmarks, and who it is: "obama 0.31" (green), "unknown 0.71"
    /// (red), or "ambiguous obama 0.44" (yellow). Sizes follow each face's size.
    public static func annotate(_ image: RGBImage, _ faces: [Identification]) -> RGBImage {
        var out = image
        for face in faces {
            let box = face.detection.box
            let size = min(box.width, box.height)
            let color: Color = switch face.verdict {
            case .match: .green
            case .unknown: .red
            case .ambiguous: .yellow
            }
            out.stroke(box, color, thickness: max(2, size / 60))
            for point in face.landmarks.points { out.dot(at: point, radius: max(2, size / 80), color) }
            let scale = max(2, size / 90)
            let label = self.label(face)
            let height = (BitmapFont.height + 2) * scale
            // Above the box when there is room, else just inside its top edge.
            let y = box.y - height >= 0 ? box.y - height : max(0, box.y)
            out.draw(label, x: max(0, box.x), y: y, scale: scale, .black, background: color)
        }
        return out
    }

    public static func label(_ face: Identification) -> String {
        let distance = face.result.best.map { String(format: " %.2f", $0.distance) } ?? ""
        switch face.verdict {
        case .match: return (face.result.best?.name ?? "?") + distance
        case .unknown: return "unknown" + distance
        case .ambiguous: return "ambiguous " + (face.result.best?.name ?? "?") + distance
        }
    }

    /// One cell of a contact sheet: an aligned face chip (nil: photo not found) and its caption.
    public struct Cell: Sendable {
        public var chip: RGBImage?
        public var caption: [String]

        public init(chip: RGBImage?, caption: [String]) {
            self.chip = chip
            self.caption = caption
        }
    }

    public static let cellSize = 200
    static let captionScale = 2

    /// A grid of chips, `columns` wide, each with its caption underneath, on white.
    public static func contactSheet(_ cells: [Cell], columns: Int = 4) throws -> RGBImage {
        let columns = max(1, min(columns, cells.count))
        let rows = max(1, (cells.count + columns - 1) / columns)
        let lineHeight = (BitmapFont.height + 3) * captionScale
        let captionLines = cells.map(\.caption.count).max() ?? 0
        let cellHeight = cellSize + 8 + captionLines * lineHeight
        let gap = 12
        var sheet = try RGBImage(width: columns * (cellSize + gap) + gap, height: rows * (cellHeight + gap) + gap, fill: 255)
        let maxChars = cellSize / (BitmapFont.advance * captionScale)
        for (i, cell) in cells.enumerated() {
            let x = gap + (i % columns) * (cellSize + gap), y = gap + (i / columns) * (cellHeight + gap)
            if let chip = cell.chip {
                sheet.paste(try chip.resized(width: cellSize, height: cellSize), x: x, y: y)
            } else {
                sheet.fill(PixelRect(x: x, y: y, width: cellSize, height: cellSize), .gray)
                sheet.draw("no photo", x: x + 8, y: y + cellSize / 2 - 8, scale: captionScale, .white)
            }
            for (line, text) in cell.caption.enumerated() {
                sheet.draw(String(text.prefix(maxChars)), x: x - captionScale, y: y + cellSize + 4 + line * lineHeight, scale: captionScale, .black)
            }
        }
        return sheet
    }

    /// The caption of an enrolled photo: its name and quality figures.
    public static func caption(source: String, faceSize: Int?, sharpness: Double, brightness: Double, contrast: Double?, yaw: Double?,
                               roll: Double?) -> [String] {
        func n(_ v: Double?) -> String { v.map { String(Int($0.rounded())) } ?? "-" }
        return [source, "size \(faceSize.map(String.init) ?? "-") px", "sharpness \(n(sharpness))", "brightness \(n(brightness))",
                "contrast \(n(contrast))", "yaw \(n(yaw)) roll \(n(roll))"]
    }
}
