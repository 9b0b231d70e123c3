package spike;

import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.types.Row;

/** Keys a row by one of its string fields (null: the empty key). */
public class FieldKey implements KeySelector<Row, String> {
  private final int field;

  public FieldKey(int field) {
    this.field = field;
  }

  @Override
  public String getKey(Row row) {
    Object value = row.getField(field);
    return value == null ? "" : (String) value;
  }
}
