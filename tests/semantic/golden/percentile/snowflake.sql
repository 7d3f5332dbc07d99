SELECT
  PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
    orders.amount) AS "p90_amount"
FROM gnomon_semantic_test.orders AS orders
ORDER BY
  "p90_amount" DESC NULLS LAST
LIMIT 1000
