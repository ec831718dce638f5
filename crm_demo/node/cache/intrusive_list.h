#pragma once

#include <cstddef>

namespace crmscope::crm {

// Doubly linked list threaded through the elements themselves (T has `T* prev; T* next;`).
// The caches keep their entries as unordered_map values, whose addresses are stable, so the
// recency order costs two pointers per entry and no allocation of its own.
template <class T>
class IntrusiveList {
 public:
  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }
  T* front() const { return head_; }
  T* back() const { return tail_; }

  void PushFront(T* node) {
    node->prev = nullptr;
    node->next = head_;
    if (head_ != nullptr) head_->prev = node;
    head_ = node;
    if (tail_ == nullptr) tail_ = node;
    ++size_;
  }

  void Remove(T* node) {
    if (node->prev != nullptr)
      node->prev->next = node->next;
    else
      head_ = node->next;
    if (node->next != nullptr)
      node->next->prev = node->prev;
    else
      tail_ = node->prev;
    node->prev = node->next = nullptr;
    --size_;
  }

  void MoveToFront(T* node) {
    if (node == head_) return;
    Remove(node);
    PushFront(node);
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
  size_t size_ = 0;
};

}  // namespace crmscope::crm
