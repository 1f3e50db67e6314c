/// The release of faced, facectl and facebench.
public enum FacedVersion {
    public static let string = "0.1.0"
}
