SELECT
  orders.status AS "status",
  PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
    orders.amount) AS "median_amount"
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  orders.status
ORDER BY
  "median_amount" DESC NULLS LAST
LIMIT 1000
