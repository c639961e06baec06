/// Schema version 2: every alias move keeps the reason given for it (`SetAliasRequest.reason`). Moves recorded by
/// a schema-1 build get the empty reason.
enum SchemaV2 {
    static let sql = """
        ALTER TABLE alias_history ADD COLUMN reason TEXT NOT NULL DEFAULT '';
        """
}
