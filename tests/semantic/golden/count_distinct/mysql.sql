SELECT
  DATE_SUB(DATE(orders.created_at), INTERVAL (
    DAYOFMONTH(orders.created_at) - 1
  ) DAY) AS `created_at_month`,
  COUNT(DISTINCT orders.customer_id) AS `customer_count`
FROM gnomon_semantic_test.orders AS orders
GROUP BY
  DATE_SUB(DATE(orders.created_at), INTERVAL (
    DAYOFMONTH(orders.created_at) - 1
  ) DAY)
ORDER BY
  CASE WHEN DATE_SUB(DATE(orders.created_at), INTERVAL (
    DAYOFMONTH(orders.created_at) - 1
  ) DAY) IS NULL THEN 1 ELSE 0 END, DATE_SUB(DATE(orders.created_at), INTERVAL (
    DAYOFMONTH(orders.created_at) - 1
  ) DAY) ASC
LIMIT 1000
