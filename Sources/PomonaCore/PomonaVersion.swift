/// The version the server reports (`GET /version`, `pomona debug`) and the CLI prints.
public enum PomonaVersion {
    public static let current = "0.1.0"
}
